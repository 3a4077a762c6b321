//! Running out of descriptors, for every backend of the workspace and `floor`, as `bench run`
//! measures it (`bench::measure::exhaustion`): each release binary started with
//! `ulimit -n 256`, 4 keep-alive connections open, then 512 new connections held open beyond
//! the limit, then closed. The flood must reach each server's limit (else nothing was
//! tested: a fault of the measure, `Exhaustion::faults`). Every server must keep answering
//! the connections it had, serve a new connection within a second of the flood's end, and
//! exit cleanly on SIGTERM; and whether it spins at the limit (its CPU with nothing to
//! answer) must be what `docs/frameworks.md` ("Out of descriptors") says of its accept loop:
//! a change in either direction, by an upgrade or an adapter, fails here.

use std::time::Duration;

use bench::measure::backend_process::{Program, READY};
use bench::measure::exhaustion;
use bench::run::options::default_cpus;
use bench::workspace::{backends, binaries};

/// The servers whose accept loop retries `accept` at once after `EMFILE`, without waiting
/// for a descriptor to be freed (docs/frameworks.md, "Out of descriptors"): trillium's
/// (trillium-server-common 0.7.11, `RunningConfig::run_async`), whose connection cap does
/// not hold against a burst.
const SPINS: &[&str] = &["trillium"];

#[test]
fn every_server_keeps_serving_and_recovers_when_it_runs_out_of_descriptors() {
    binaries::build_backends().expect("the release build of the backends");
    let (server_cpus, _) = default_cpus();
    let mut wrong = Vec::new();
    for name in backends::names().into_iter().chain([backends::FLOOR.name]) {
        let program = Program::Backend(binaries::binary(name));
        let e = exhaustion::measure(name, &program, &server_cpus, READY, Duration::from_secs(1));
        let seen = format!(
            "{name}: {} of {} open connections answered, {:.2} cores at the limit, served \
             again {}, flood {} answered / {} refused ({} closed before asking) of {}, {:?} \
             fds at the limit, clean exit {:?}",
            e.existing_served,
            e.existing,
            e.cpu_at_limit,
            e.recovery(),
            e.flood_served,
            e.flood_refused,
            e.closed_before_asking,
            e.flood,
            e.open_fds_at_limit,
            e.clean_exit
        );
        eprintln!("{seen}");
        let mut faults: Vec<String> = e
            .faults()
            .into_iter()
            .filter(|f| !(f.starts_with("spins") && SPINS.contains(&name)))
            .collect();
        if SPINS.contains(&name) && !e.spins() {
            faults.push(format!(
                "no longer spins ({:.2} cores): take it out of SPINS and docs/frameworks.md",
                e.cpu_at_limit
            ));
        }
        if e.clean_exit != Some(true) {
            faults.push("did not exit cleanly on SIGTERM".to_owned());
        }
        if !faults.is_empty() {
            wrong.push(format!("{name}: {}\n  ({seen})", faults.join(", ")));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
