//! `site-core`: everything the sitebench site does, written once and shared by every backend.
//! It depends on no web framework and speaks the `http` crate's types: a backend extracts what
//! a route needs, calls the matching `Site` method, and converts the `Reply` it gets back; its
//! one hook around every request calls `Site::begin` and `Exchange::finish` (`exchange`).
//! The contract this crate implements is `docs/SITE.md`; the black-box suite that checks it
//! against any server is the `site-conformance` crate beside this one.

pub mod access_log;
pub mod admission;
pub mod body;
pub mod cli;
pub mod credentials;
pub mod deviations;
pub mod errors;
pub mod exchange;
pub mod negotiation;
pub mod openapi;
pub mod pages;
pub mod passwords;
pub mod problem;
pub mod reply;
pub mod server;
pub mod sessions;
pub mod site;
pub mod static_files;
pub mod status_codes;
pub mod storage;
pub mod throttle;
pub mod users;

pub use body::{BODY_LIMIT, BodyError};
pub use cli::Config;
pub use deviations::Deviation;
pub use errors::{Allow, SiteError};
pub use exchange::Exchange;
pub use reply::Reply;
pub use server::{Backend, Ready, ServeFn, Shutdown};
pub use site::Site;
