//! The scenarios of BENCH.md section 2 by name, in the report's order, and what is true of
//! each whatever the server: which are cheap (their cost is the server's, not the password
//! hash's) and which also get a fixed-rate window. What each sends is
//! `measure::workload`'s.

use serde::{Deserialize, Serialize};

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    Plaintext,
    Json,
    Static,
    #[value(name = "static-304")]
    #[serde(rename = "static-304")]
    Static304,
    Hello,
    Status,
    Me,
    PlaintextClose,
    PlaintextPipelined,
    Login,
    Signup,
    Mixed,
    Storm,
}

impl Scenario {
    pub const ALL: [Scenario; 13] = [
        Self::Plaintext,
        Self::Json,
        Self::Static,
        Self::Static304,
        Self::Hello,
        Self::Status,
        Self::Me,
        Self::PlaintextClose,
        Self::PlaintextPipelined,
        Self::Login,
        Self::Signup,
        Self::Mixed,
        Self::Storm,
    ];

    /// The scenarios cheap enough to also be measured at a fixed, common rate (BENCH.md 4.1).
    pub const FIXED_RATE: [Scenario; 4] = [Self::Plaintext, Self::Json, Self::Static, Self::Status];

    /// The scenarios whose connections behave as other clients' do (BENCH.md v3, section 2): a
    /// connection per request, or 16 requests written at once. Cheap, but each is its own
    /// criterion of the answer: averaged into the keep-alive ones, the kernel's connection
    /// set-up (`plaintext-close`) or a sixteenth of the client's work (`plaintext-pipelined`)
    /// would change what those criteria mean.
    pub const CONNECTIONS: [Scenario; 2] = [Self::PlaintextClose, Self::PlaintextPipelined];

    /// Requests written at once per connection in `plaintext-pipelined`, as TechEmpower's
    /// plaintext test does.
    pub const PIPELINE_DEPTH: usize = 16;

    /// The scenario a report names, if this bench knows it.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.name() == name)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Json => "json",
            Self::Static => "static",
            Self::Static304 => "static-304",
            Self::Hello => "hello",
            Self::Status => "status",
            Self::Me => "me",
            Self::PlaintextClose => "plaintext-close",
            Self::PlaintextPipelined => "plaintext-pipelined",
            Self::Login => "login",
            Self::Signup => "signup",
            Self::Mixed => "mixed",
            Self::Storm => "storm",
        }
    }

    /// The scenarios whose cost per request means something: not those dominated by the
    /// password hash. A run records its list in the report (`Report::cheap_scenarios`).
    pub fn cheap(self) -> bool {
        !matches!(self, Self::Login | Self::Signup | Self::Mixed | Self::Storm)
    }

    /// The cheap scenarios on keep-alive connections, one request at a time: those the
    /// answer's timed criteria average over (`Report::cheap_scenarios`).
    pub fn averaged(self) -> bool {
        self.cheap() && !Self::CONNECTIONS.contains(&self)
    }

    pub fn request_line(self) -> &'static str {
        match self {
            Self::Plaintext => "GET /plaintext",
            Self::Json => "GET /json",
            Self::Static => "GET / (index.html)",
            Self::Static304 => "GET / with If-None-Match",
            Self::Hello => "GET /hello?name=<varied>",
            Self::Status => "GET /status/404",
            Self::Me => "GET /me with a session cookie",
            Self::PlaintextClose => "GET /plaintext, Connection: close, a new connection each",
            Self::PlaintextPipelined => "GET /plaintext, 16 written at once per connection",
            Self::Login => "POST /login (JSON), default password cost",
            Self::Signup => "POST /users (JSON), a new user each time",
            Self::Mixed => "80% static, 10% me, 5% hello, 4% status, 1% login",
            Self::Storm => "GET /plaintext on 4 connections while 16 others POST /login",
        }
    }
}
