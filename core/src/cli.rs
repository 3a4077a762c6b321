//! The command line every backend binary shares (SITE.md section 6): flags, their
//! `SITEBENCH_<FLAG>` environment variables, and the `Config` they produce. Bad flags end the
//! process with one line on stderr and exit status 2.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use clap::builder::BoolishValueParser;

use crate::passwords::PasswordCost;

#[derive(Debug, Parser)]
#[command(
    about = "Serve the sitebench site: one web site, the same on every framework.",
    version
)]
struct Args {
    /// Address to listen on.
    #[arg(long, env = "SITEBENCH_BIND", default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, env = "SITEBENCH_PORT", default_value_t = 8080)]
    port: u16,
    /// Serve this directory from disk instead of the embedded pages.
    #[arg(long, env = "SITEBENCH_STATIC_DIR")]
    static_dir: Option<PathBuf>,
    /// SQLite database file (":memory:" for a throwaway one).
    #[arg(long, env = "SITEBENCH_DATABASE", default_value = "sitebench.db")]
    database: String,
    /// Worker threads [default: number of CPUs].
    #[arg(long, env = "SITEBENCH_WORKERS", value_parser = clap::value_parser!(u16).range(1..))]
    workers: Option<u16>,
    /// A username with admin rights (repeatable; comma-separated in the environment).
    #[arg(long, env = "SITEBENCH_ADMIN", value_delimiter = ',')]
    admin: Vec<String>,
    /// Mark the session cookie `Secure` (when served behind HTTPS).
    #[arg(long, env = "SITEBENCH_SECURE_COOKIES", value_parser = BoolishValueParser::new(),
          action = clap::ArgAction::SetTrue)]
    secure_cookies: bool,
    /// No access log.
    #[arg(long, env = "SITEBENCH_QUIET", value_parser = BoolishValueParser::new(),
          action = clap::ArgAction::SetTrue)]
    quiet: bool,
}

/// Everything a backend needs to start the site.
#[derive(Debug, Clone)]
pub struct Config {
    pub bind: IpAddr,
    pub port: u16,
    pub static_dir: Option<PathBuf>,
    pub database: String,
    pub workers: usize,
    pub admin: Vec<String>,
    pub secure_cookies: bool,
    pub quiet: bool,
    /// The binaries always use the contract's default; tests lower it.
    pub password_cost: PasswordCost,
    /// Test hook: a GET of this path panics inside the handler. Never set from the command line.
    pub panic_path: Option<String>,
}

impl Config {
    /// Parses the process's arguments and environment, or says why not and how to exit.
    pub fn from_command_line() -> Result<Self, ExitCode> {
        Self::parse_from(std::env::args_os())
    }

    pub fn parse_from<I, T>(args: I) -> Result<Self, ExitCode>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let args = match Args::try_parse_from(args) {
            Ok(args) => args,
            Err(error) if !error.use_stderr() => {
                // --help and --version: print as clap does, exit 0.
                let _ = error.print();
                return Err(ExitCode::SUCCESS);
            }
            Err(error) => return Err(fail(first_line(&error.to_string()))),
        };
        if let Some(dir) = &args.static_dir
            && !dir.is_dir()
        {
            return Err(fail(&format!(
                "error: --static-dir {}: no such directory",
                dir.display()
            )));
        }
        let workers = args.workers.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        );
        Ok(Self {
            bind: args.bind,
            port: args.port,
            static_dir: args.static_dir,
            database: args.database,
            workers,
            admin: args.admin.into_iter().filter(|a| !a.is_empty()).collect(),
            secure_cookies: args.secure_cookies,
            quiet: args.quiet,
            password_cost: PasswordCost::DEFAULT,
            panic_path: None,
        })
    }

    /// A quiet site on a temporary database with a low password cost, for tests.
    pub fn for_tests(database: PathBuf) -> Self {
        Self {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            static_dir: None,
            database: database.to_string_lossy().into_owned(),
            workers: 2,
            admin: Vec::new(),
            secure_cookies: false,
            quiet: true,
            password_cost: PasswordCost::TEST,
            panic_path: None,
        }
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("error: bad command line")
}

/// Prints one line on stderr and returns exit status 2, for every start-up failure.
pub fn fail(message: &str) -> ExitCode {
    eprintln!("{}", first_line(message));
    ExitCode::from(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Config, ExitCode> {
        Config::parse_from(std::iter::once("backend").chain(args.iter().copied()))
    }

    #[test]
    fn defaults() {
        let c = parse(&[]).expect("valid");
        assert_eq!(
            (c.bind.to_string(), c.port, c.database.as_str()),
            ("127.0.0.1".into(), 8080, "sitebench.db")
        );
        assert!(c.workers >= 1 && !c.quiet && !c.secure_cookies && c.admin.is_empty());
        assert_eq!(c.password_cost, PasswordCost::DEFAULT);
    }

    #[test]
    fn repeatable_and_switches() {
        let c = parse(&[
            "--admin",
            "Ada",
            "--admin",
            "bob",
            "--quiet",
            "--port",
            "0",
            "--workers",
            "3",
        ])
        .expect("valid");
        assert_eq!(c.admin, ["Ada", "bob"]);
        assert!(c.quiet);
        assert_eq!((c.port, c.workers), (0, 3));
    }

    #[test]
    fn bad_flags_exit_2() {
        for args in [
            &["--port", "http"][..],
            &["--port", "70000"],
            &["--workers", "0"],
            &["--bind", "localhost:1"],
            &["--nope"],
            &["--static-dir", "/definitely/not/here"],
        ] {
            assert_eq!(parse(args).err(), Some(ExitCode::from(2)), "{args:?}");
        }
    }
}
