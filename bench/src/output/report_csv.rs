//! `report.csv` (BENCH.md 5): one row per server × scenario × window, every window kept in
//! `report.json` (the repeats, `storm`'s quiet windows, the fixed-rate window), for
//! spreadsheets. Figures a window lacks are empty cells.

use serde::Serialize;

use crate::report::{Report, Run};

/// One window, flattened.
#[derive(Debug, Serialize)]
struct WindowRow<'a> {
    server: &'a str,
    scenario: &'a str,
    /// `repeat`, `quiet` (storm's plaintext alone) or `fixed-rate`.
    window: &'static str,
    /// 1, 2, ... within its kind.
    index: usize,
    requests_per_sec: f64,
    responses: u64,
    p50_us: u64,
    p90_us: u64,
    p99_us: u64,
    p999_us: u64,
    max_us: u64,
    errors: u64,
    server_cpu_us_per_request: Option<f64>,
    server_cpu_user_us_per_request: Option<f64>,
    server_cpu_system_us_per_request: Option<f64>,
    server_peak_rss_kib: Option<u64>,
    client_busy_share: Option<f64>,
    server_foreign_share: Option<f64>,
    client_foreign_share: Option<f64>,
    steal_share: Option<f64>,
}

impl<'a> WindowRow<'a> {
    fn of(
        server: &'a str,
        scenario: &'a str,
        window: &'static str,
        index: usize,
        run: &Run,
    ) -> Self {
        WindowRow {
            server,
            scenario,
            window,
            index,
            requests_per_sec: run.requests_per_sec,
            responses: run.responses,
            p50_us: run.latency_us.p50,
            p90_us: run.latency_us.p90,
            p99_us: run.latency_us.p99,
            p999_us: run.latency_us.p999,
            max_us: run.latency_us.max,
            errors: run.errors.total(),
            server_cpu_us_per_request: run.server_cpu_us_per_request,
            server_cpu_user_us_per_request: run.server_cpu_user_us_per_request,
            server_cpu_system_us_per_request: run.server_cpu_system_us_per_request,
            server_peak_rss_kib: run.server_peak_rss_kib,
            client_busy_share: run.client_busy_share,
            server_foreign_share: run.noise.map(|n| n.server_foreign),
            client_foreign_share: run.noise.map(|n| n.client_foreign),
            steal_share: run.noise.map(|n| n.steal),
        }
    }
}

pub fn csv(report: &Report) -> Result<String, String> {
    let mut out = csv::Writer::from_writer(Vec::new());
    for backend in &report.backends {
        for scenario in &backend.scenarios {
            let (server, name) = (backend.name.as_str(), scenario.name.as_str());
            let repeats = scenario.runs.iter().map(|r| ("repeat", r));
            let quiet = scenario.quiet.iter().map(|r| ("quiet", r));
            let mut counts = std::collections::BTreeMap::new();
            let fixed = scenario
                .fixed_rate
                .iter()
                .flat_map(|f| f.windows())
                .map(|r| ("fixed-rate", r));
            for (window, run) in repeats.chain(quiet).chain(fixed) {
                let index = counts.entry(window).or_insert(0);
                *index += 1;
                out.serialize(WindowRow::of(server, name, window, *index, run))
                    .map_err(|e| format!("report.csv: {e}"))?;
            }
        }
    }
    let bytes = out.into_inner().map_err(|e| format!("report.csv: {e}"))?;
    String::from_utf8(bytes).map_err(|e| format!("report.csv: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{run, sample};

    #[test]
    fn every_window_is_a_row_with_its_figures() {
        let mut report = sample();
        let scenario = &mut report.backends[0].scenarios[0];
        scenario.quiet = vec![run(500.0)];
        scenario.fixed_rate = crate::report::FixedRate::from_runs(50.0, vec![run(50.0), run(51.0)]);
        let repeats = scenario.runs.len();
        let text = csv(&report).expect("csv");
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header = reader.headers().expect("header").clone();
        assert_eq!(&header[0], "server");
        assert!(header.iter().any(|h| h == "server_cpu_user_us_per_request"));
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        // The repeats, the quiet window and both fixed-rate windows.
        assert_eq!(rows.len(), repeats + 3);
        let column = |name: &str| header.iter().position(|h| h == name).expect(name);
        let quiet = rows
            .iter()
            .find(|r| &r[column("window")] == "quiet")
            .expect("the quiet window");
        assert_eq!(&quiet[column("requests_per_sec")], "500.0");
        assert_eq!(&quiet[column("p99_us")], "400");
        assert_eq!(&quiet[column("index")], "1");
        let fixed = rows
            .iter()
            .find(|r| &r[column("window")] == "fixed-rate")
            .expect("the fixed-rate window");
        assert_eq!(&fixed[column("requests_per_sec")], "50.0");
        let last_repeat = rows
            .iter()
            .rfind(|r| &r[column("window")] == "repeat")
            .expect("repeats");
        assert_eq!(last_repeat[column("index")], repeats.to_string());
        assert_eq!(&last_repeat[column("server_peak_rss_kib")], "9000");
    }
}
