//! Lines of SITE.md a framework makes impossible. A backend declares its deviations in one
//! constant, each with a comment naming the framework behaviour and its source; the
//! conformance suite then expects exactly that deviation from that backend and no other.

/// One declared, tested departure from the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Deviation {
    /// A missing or duplicate `Host` header is answered with the framework's own bare `400`
    /// (no problem body, no `Server` header) while the request head is parsed.
    HostRefusedByFramework,
    /// The framework's server has no header-read timeout the application can set: a
    /// connection that never completes its request header stays open (other clients are
    /// still served).
    NoHeaderReadTimeout,
    /// The framework does not tell the application the request's HTTP version: every request
    /// is taken as HTTP/1.1, so an HTTP/1.0 request without `Host` gets `400`.
    HttpVersionHidden,
    /// The framework builds the HTTP response from the status code alone, so the status line
    /// carries the `http` crate's reason phrase (`413 Payload Too Large`, `599 <none>`), not
    /// the site's; bodies and problem titles still use the site's names.
    CanonicalReasonPhrase,
    /// The framework's parser refuses a request with more than 96 header fields (`431`),
    /// where the contract allows 100.
    HeaderFieldsCappedAt96,
    /// After refusing an over-limit chunked body, the framework reads the rest of it and
    /// throws it away (to keep the connection) before it closes; an announced length is not
    /// read past the limit.
    ChunkedBodyDrained,
    /// A method the framework's parser does not know (`BREW`, a lowercase `get`) is answered
    /// with the framework's own bare `501` (no problem body, no `Server` header) while the
    /// request head is parsed.
    MethodRefusedByFramework,
    /// The framework's status type is a closed list of codes, each written on the status line
    /// with the framework's own reason phrase (`413 Payload Too Large`, `300 Multiple Choice`);
    /// a code outside the list (`208`, `305`, `599`) cannot be sent, and the backend answers
    /// the core's `500` instead. Bodies and problem titles still use the site's names.
    FrameworkStatusTable,
    /// A request head over the framework's size limit gets no answer: the connection is
    /// closed where the contract wants `431`.
    OversizedHeadClosed,
    /// The framework's router matches a path parameter against the percent-decoded segment
    /// and cannot match one that decodes to bytes that are not UTF-8 or to a line break
    /// (`/status/%FF`): the request reaches the static fallback (`404`) instead of the
    /// route, which would refuse the value with `400`.
    UndecodableSegmentUnrouted,
    /// The framework's buffer for a request head doubles with every read of an unfinished
    /// head, whatever the read brought: a head trickled a byte at a time takes gigabytes (and a
    /// core, zeroing them) within seconds. The suite trickles only a few bytes at such a
    /// backend, and measures the growth where it can see the server's memory.
    TrickledHeadGrowsMemory,
}
