//! The charts of `report.html` (BENCH.md section 5): requests/s and CPU per request with the
//! repeats' min–max whiskers, latency percentile curves (HdrHistogram style, per scenario and
//! per fixed-rate scenario), and instructions per request stacked by crate group. This module
//! owns which figures of the report feed each chart, the charts' geometry, and their SVG;
//! `output::report_html` only places the sections it returns in the page.
//!
//! Drawn with plotters' SVG backend into strings: its axes, ticks and log scales are what a
//! hand-written chart would have to redo, and criterion already builds it for the benchmarks
//! (same features, so one build serves both). Every chart is one small SVG per scenario, each
//! on its own scale (login runs at tens of requests/s, plaintext at a hundred thousand), laid
//! out by the page's CSS grid: one column on a phone, two on a desktop. A chart is 440 units
//! wide with 13.7-unit text, so on a 390 px phone (about 360 px of content) text stays at
//! 11 px. Colours are fixed per server (its position in the report), the same in every chart;
//! the legends are HTML above each grid, so they wrap on a narrow screen instead of crowding
//! the plots.

use std::fmt::Write;
use std::ops::Range;

use hdrhistogram::Histogram;
use plotters::coord::combinators::{BindKeyPoints, IntoLogRange};
use plotters::coord::ranged1d::{KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::output::escape;
use crate::report::histograms;
use crate::report::stats::Stat;
use crate::report::{BackendReport, Marker, Percentiles, Report, Run, ScenarioReport};

/// Width of every chart, in SVG units (the page scales it down, never up).
const WIDTH: u32 = 440;
/// Plotters writes `font-size` as this over 1.24: 13.7 units.
const FONT: f64 = 17.0;
const CAPTION: f64 = 19.0;
/// One server's row in the bar charts.
const ROW: u32 = 28;
/// The latency charts' percentile axis ends at 1/(1-q) = 10^4.5 (99.997%): room for the
/// 99.99% label and the tail of runs with enough requests.
const X_MAX_DECADES: f64 = 4.5;
/// Curve points per decade of 1/(1-q).
const STEPS_PER_DECADE: f64 = 20.0;

/// One colour per server, by its position in the report (the baseline, the other backends
/// in the workspace's order, then `floor` and any `--server`), going round when there are
/// more servers than colours. Twelve, so that the workspace's backends, `floor` and a few
/// servers of one's own all differ; a test keeps there being more than backends.
const SERVER_COLORS: [RGBColor; 12] = [
    RGBColor(0xd9, 0x48, 0x0f),
    RGBColor(0x19, 0x71, 0xc2),
    RGBColor(0x2f, 0x9e, 0x44),
    RGBColor(0xae, 0x3e, 0xc9),
    RGBColor(0xf0, 0x8c, 0x00),
    RGBColor(0x49, 0x50, 0x57),
    RGBColor(0x0c, 0x85, 0x99),
    RGBColor(0xe6, 0x49, 0x80),
    RGBColor(0x86, 0x5e, 0x3c),
    RGBColor(0x5c, 0x7c, 0xfa),
    RGBColor(0x74, 0xb8, 0x16),
    RGBColor(0x9c, 0x36, 0xb5),
];

/// The crate groups of `callgrind::group_of`, from the site's own code outwards to the layers
/// under the framework, so the leftmost segments are the ones the site and adapter control.
const GROUPS: [(&str, RGBColor); 7] = [
    ("site-core", RGBColor(0x4e, 0x79, 0xa7)),
    ("adapter", RGBColor(0xf2, 0x8e, 0x2b)),
    ("framework", RGBColor(0xe1, 0x57, 0x59)),
    ("hyper", RGBColor(0x76, 0xb7, 0xb2)),
    ("tokio", RGBColor(0x59, 0xa1, 0x4f)),
    ("std/alloc", RGBColor(0xed, 0xc9, 0x48)),
    ("other", RGBColor(0xba, 0xb0, 0xac)),
];
/// A group the list above does not know (a newer report): grey, after the known ones.
const UNKNOWN_GROUP: RGBColor = RGBColor(0x86, 0x8e, 0x96);

const WHISKER: RGBColor = RGBColor(0x21, 0x25, 0x29);
const GRID: RGBColor = RGBColor(0xde, 0xe2, 0xe6);

/// Said under the latency headings when a chart joins the recorded percentiles.
const SPARSE_NOTE: &str = " Where a chart says so, the report kept no latency histograms (reports \
     before schema 2 did not): its lines only join the recorded p50, p90, p99 and p99.9.";

/// A titled group of charts with its legend, as the page shows it.
#[derive(Debug)]
pub struct Section {
    pub title: String,
    /// What the charts show and how to read them, one sentence or two.
    pub intro: String,
    /// Label and colour of each swatch, for the HTML legend.
    pub legend: Vec<(String, String)>,
    /// One SVG per chart, or a short note where one could not be drawn.
    pub charts: Vec<String>,
}

/// Every chart section of the report that has at least one chart, in the page's order.
pub fn sections(report: &Report) -> Vec<Section> {
    let servers = server_legend(report);
    let scenarios = scenario_names(report);
    let mut out = Vec::new();

    let mut throughput = Section {
        title: "Requests per second".into(),
        intro: "Bar: the median of the repeat windows; whisker: from the slowest to the fastest \
                window. Each scenario on its own scale, higher is better. ≥: the load generator \
                was the bottleneck in a window, so the figure is a lower bound."
            .into(),
        legend: servers.clone(),
        charts: Vec::new(),
    };
    let mut cpu = Section {
        title: "Server CPU per request".into(),
        intro: "User plus system CPU time of the server process per request, in µs: median of \
                the repeat windows, whisker from min to max. Lower is better."
            .into(),
        legend: servers.clone(),
        charts: Vec::new(),
    };
    let mut latency = Section {
        title: "Latency by percentile".into(),
        intro: "Each server's latency at each percentile, all repeat windows of the scenario \
                together (at saturation, so latency mostly reflects throughput: see the fixed \
                rate below). Both axes logarithmic; lower is better; the tail is to the right."
            .into(),
        legend: servers.clone(),
        charts: Vec::new(),
    };
    let mut fixed = Section {
        title: "Latency at a fixed rate".into(),
        intro: "One open-loop window per server at the same rate, half of the slowest server's \
                saturation: every server has the same work, so this is the fair latency \
                comparison."
            .into(),
        legend: servers.clone(),
        charts: Vec::new(),
    };
    let mut instructions = Section {
        title: "Instructions per request, by crate".into(),
        intro: "User-space instructions per request under callgrind (deterministic), split by \
                the crate group each function belongs to. Lower is better."
            .into(),
        legend: GROUPS
            .iter()
            .map(|(name, color)| ((*name).to_owned(), hex(*color)))
            .collect(),
        charts: Vec::new(),
    };

    // Whether a latency chart had to join the recorded percentiles (no histograms).
    let mut sparse = false;
    for scenario in &scenarios {
        let entries = entries(report, scenario);
        let title = |what: &str| format!("{scenario}: {what}");
        let bars = whisker_bars(&entries, true, |s| {
            Some(s.summary.as_ref()?.requests_per_sec)
        });
        if !bars.is_empty() {
            throughput
                .charts
                .push(drawn(whisker_chart(&title("requests/s"), &bars)));
        }
        let bars = whisker_bars(&entries, false, |s| {
            s.summary.as_ref()?.server_cpu_us_per_request
        });
        if !bars.is_empty() {
            cpu.charts
                .push(drawn(whisker_chart(&title("CPU µs per request"), &bars)));
        }
        let curves = latency_curves(
            &entries,
            |s| s.runs.iter().collect(),
            |s| {
                s.summary.as_ref().map(|m| Percentiles {
                    p50: m.p50_us.median.round() as u64,
                    p90: m.p90_us.median.round() as u64,
                    p99: m.p99_us.median.round() as u64,
                    p999: m.p999_us.median.round() as u64,
                    max: m.max_us.median.round() as u64,
                })
            },
        );
        if let Some(curves) = curves {
            sparse |= curves.iter().any(|c| c.sparse);
            latency
                .charts
                .push(drawn(latency_chart(&title("latency"), &curves)));
        }
        let curves = latency_curves(
            &entries,
            |s| s.fixed_rate.iter().map(|f| &f.run).collect(),
            |s| s.fixed_rate.as_ref().map(|f| f.run.latency_us),
        );
        if let Some(curves) = curves {
            sparse |= curves.iter().any(|c| c.sparse);
            let rate = fixed_rate_label(&entries);
            fixed.charts.push(drawn(latency_chart(
                &format!("{scenario} at {rate} req/s, fixed rate"),
                &curves,
            )));
        }
        let stacks = stacks(&entries);
        if !stacks.is_empty() {
            instructions.charts.push(drawn(stacked_chart(
                &title("instructions per request"),
                &stacks,
            )));
        }
    }
    if sparse {
        for section in [&mut latency, &mut fixed] {
            section.intro.push_str(SPARSE_NOTE);
        }
    }
    // Only the groups that occur, plus any the list does not know, in the legend.
    let used = used_groups(report);
    instructions.legend.retain(|(name, _)| used.contains(name));
    for name in used {
        if !instructions.legend.iter().any(|(n, _)| *n == name) {
            instructions.legend.push((name, hex(UNKNOWN_GROUP)));
        }
    }
    for section in [throughput, cpu, latency, fixed, instructions] {
        if !section.charts.is_empty() {
            out.push(section);
        }
    }
    out
}

/// The sections as HTML: heading, intro, legend, and the grid of charts.
pub fn html(report: &Report) -> String {
    let mut out = String::new();
    for section in sections(report) {
        let _ = write!(
            out,
            "<h2>{}</h2>\n<p>{}</p>\n<p class=\"legend\">",
            escape::html(&section.title),
            escape::html(&section.intro)
        );
        for (name, color) in &section.legend {
            let _ = write!(
                out,
                "<span class=\"key\"><span class=\"swatch\" style=\"background:{color}\"></span>{}</span> ",
                escape::html(name)
            );
        }
        out.push_str("</p>\n<div class=\"charts\">\n");
        for chart in &section.charts {
            out.push_str(chart);
            out.push('\n');
        }
        out.push_str("</div>\n");
    }
    out
}

/// A chart's SVG, or why it is missing (plotters only fails on a writer error or a bad range,
/// neither of which should happen; the page is still written).
fn drawn(chart: Result<String, String>) -> String {
    chart.unwrap_or_else(|e| format!("<p>chart not drawn: {}</p>", escape::html(&e)))
}

fn hex(color: RGBColor) -> String {
    format!("#{:02x}{:02x}{:02x}", color.0, color.1, color.2)
}

/// Scenario names in the order they first appear in the report.
fn scenario_names(report: &Report) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for backend in &report.backends {
        for scenario in &backend.scenarios {
            if !names.contains(&scenario.name) {
                names.push(scenario.name.clone());
            }
        }
    }
    names
}

fn server_legend(report: &Report) -> Vec<(String, String)> {
    report
        .backends
        .iter()
        .enumerate()
        .map(|(i, b)| (b.name.clone(), hex(server_color(i))))
        .collect()
}

fn server_color(index: usize) -> RGBColor {
    SERVER_COLORS[index % SERVER_COLORS.len()]
}

/// A server's figures on one scenario, with its colour.
struct Entry<'a> {
    server: &'a BackendReport,
    color: RGBColor,
    scenario: &'a ScenarioReport,
}

/// The servers that have `scenario` in the report, in the report's order.
fn entries<'a>(report: &'a Report, scenario: &str) -> Vec<Entry<'a>> {
    report
        .backends
        .iter()
        .enumerate()
        .filter_map(|(i, server)| {
            // A scenario that was not measured has no figures, so no chart draws it.
            let found = server.scenarios.iter().find(|s| s.name == scenario)?;
            Some(Entry {
                server,
                color: server_color(i),
                scenario: found,
            })
        })
        .collect()
}

/// One bar of a whisker chart.
#[derive(Debug, Clone)]
struct Bar {
    label: String,
    color: RGBColor,
    stat: Stat,
    /// The figure is a lower bound (client-bound windows): its value is shown with `≥`.
    lower_bound: bool,
}

/// The bars of `stat`; `bounded`: a client-bound scenario's figure is a lower bound (true of
/// requests/s, not of CPU per request).
fn whisker_bars(
    entries: &[Entry<'_>],
    bounded: bool,
    stat: impl Fn(&ScenarioReport) -> Option<Stat>,
) -> Vec<Bar> {
    entries
        .iter()
        .filter_map(|e| {
            let stat = stat(e.scenario)?;
            let finite = [stat.median, stat.min, stat.max]
                .iter()
                .all(|v| v.is_finite() && *v >= 0.0);
            finite.then(|| Bar {
                label: e.server.name.clone(),
                color: e.color,
                stat,
                lower_bound: bounded && e.scenario.markers.contains(&Marker::ClientBound),
            })
        })
        .collect()
}

/// A figure in three significant digits: 138k, 1.23M, 26.0k, 9.61, 10.0.
fn short(value: f64) -> String {
    let (scaled, suffix) = if value.abs() >= 999_500.0 {
        (value / 1e6, "M")
    } else if value.abs() >= 9_995.0 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    let abs = scaled.abs();
    let decimals = if abs >= 99.95 {
        0
    } else if abs >= 9.995 {
        1
    } else {
        2
    };
    format!("{scaled:.decimals$}{suffix}")
}

/// An axis tick: as [`short`], without trailing zeros (20, not 20.0).
fn tick(value: f64) -> String {
    let text = short(value);
    let (number, suffix) = text.split_at(text.trim_end_matches(['k', 'M']).len());
    if number.contains('.') {
        format!(
            "{}{suffix}",
            number.trim_end_matches('0').trim_end_matches('.')
        )
    } else {
        text
    }
}

/// Server names longer than this are cut, so the label column stays narrow on a phone.
const MAX_LABEL: usize = 14;

fn label(name: &str) -> String {
    if name.chars().count() > MAX_LABEL {
        let cut: String = name.chars().take(MAX_LABEL - 1).collect();
        format!("{cut}…")
    } else {
        name.to_owned()
    }
}

/// The label column's width for these names: 0.6 of the font size a byte, and a margin.
fn label_width(names: impl Iterator<Item = String>) -> u32 {
    let longest = names.map(|n| n.len()).max().unwrap_or(4) as f64;
    (longest * FONT / 1.24 * 0.6 + 14.0).round() as u32
}

/// The y coordinate of row `i` of `n`: plotters' y grows upwards, the report's order runs
/// downwards.
fn row_y(n: usize, i: usize) -> f64 {
    (n - 1 - i) as f64 + 0.5
}

/// The y axis of a bar chart: `n` rows from 0 to `n`, with a tick (the server's name) at
/// each row's centre and nowhere else. plotters' `with_key_points` would do, but it takes the
/// default formatting away from `f64` axes, so the mesh cannot label them.
struct Rows(usize);

impl Ranged for Rows {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        RangedCoordf64::from(0.0..self.0 as f64).map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, _: Hint) -> Vec<f64> {
        (0..self.0).map(|i| i as f64 + 0.5).collect()
    }

    fn range(&self) -> Range<f64> {
        0.0..self.0 as f64
    }
}

impl ValueFormatter<f64> for Rows {
    /// Only reached without a label formatter, which every chart sets.
    fn format(_: &f64) -> String {
        String::new()
    }
}

type Chart<'a> = ChartContext<'a, SVGBackend<'a>, Cartesian2d<RangedCoordf64, Rows>>;

/// The frame shared by the bar charts: a value axis from 0 with room right of the longest
/// whisker for its figure, and the servers' names down the left.
fn bar_frame<'a>(
    root: &DrawingArea<SVGBackend<'a>, plotters::coord::Shift>,
    title: &str,
    labels: &[String],
    x_max: f64,
) -> Result<Chart<'a>, String> {
    let n = labels.len();
    let mut chart = ChartBuilder::on(root)
        .caption(
            title,
            (FontFamily::SansSerif, CAPTION)
                .into_font()
                .style(FontStyle::Bold),
        )
        .margin(6)
        .margin_right(16)
        .x_label_area_size(26)
        .y_label_area_size(label_width(labels.iter().cloned()))
        .build_cartesian_2d(0.0..x_max, Rows(n))
        .map_err(|e| e.to_string())?;
    let name_at = |y: &f64| {
        let from_top = (n as f64 - 0.5 - y).round();
        if from_top >= 0.0 {
            labels.get(from_top as usize).cloned().unwrap_or_default()
        } else {
            String::new()
        }
    };
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_labels(4)
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&name_at)
        .label_style((FontFamily::SansSerif, FONT))
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .axis_style(WHISKER)
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(chart)
}

/// The height of a bar chart of `n` rows: caption, rows, axis labels.
fn bar_chart_height(n: usize) -> u32 {
    40 + ROW * n as u32 + 32
}

/// Where the value axis ends: past the longest whisker by room for its figure.
fn bar_axis_end(longest: f64) -> f64 {
    if longest > 0.0 { longest * 1.3 } else { 1.0 }
}

/// Median bars with min–max whiskers, one row per server.
fn whisker_chart(title: &str, bars: &[Bar]) -> Result<String, String> {
    let n = bars.len();
    let labels: Vec<String> = bars.iter().map(|b| label(&b.label)).collect();
    let x_max = bar_axis_end(bars.iter().map(|b| b.stat.max).fold(0.0, f64::max));
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, bar_chart_height(n))).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = bar_frame(&root, title, &labels, x_max)?;
        let err = |e: DrawingAreaErrorKind<std::io::Error>| e.to_string();
        chart
            .draw_series(bars.iter().enumerate().map(|(i, b)| {
                let y = row_y(n, i);
                Rectangle::new(
                    [(0.0, y - 0.32), (b.stat.median, y + 0.32)],
                    b.color.filled(),
                )
            }))
            .map_err(err)?;
        for (i, b) in bars.iter().enumerate() {
            let y = row_y(n, i);
            let stroke = WHISKER.stroke_width(2);
            chart
                .draw_series(
                    whisker(b.stat.min, b.stat.max, y)
                        .into_iter()
                        .map(|line| PathElement::new(line, stroke)),
                )
                .map_err(err)?;
            let figure = format!(
                "{}{}",
                if b.lower_bound { "≥" } else { "" },
                short(b.stat.median)
            );
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((b.stat.max, y)) + Text::new(figure, (6, 0), value_style()),
                ))
                .map_err(err)?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(titled(svg, title))
}

/// The figure at the end of a bar: left-aligned, centred on the row.
fn value_style() -> TextStyle<'static> {
    (FontFamily::SansSerif, FONT)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center))
}

/// The whisker of a row at `y`: the line from `min` to `max` and a cap at each end.
fn whisker(min: f64, max: f64, y: f64) -> [Vec<(f64, f64)>; 3] {
    let cap = 0.2;
    [
        vec![(min, y), (max, y)],
        vec![(min, y - cap), (min, y + cap)],
        vec![(max, y - cap), (max, y + cap)],
    ]
}

/// The SVG with its title as a `<title>`, for screen readers and tooltips.
fn titled(svg: String, title: &str) -> String {
    let open = "xmlns=\"http://www.w3.org/2000/svg\">";
    svg.replacen(
        open,
        &format!("{open}<title>{}</title>", escape::html(title)),
        1,
    )
}

/// The x coordinate of percentile `q` on an HdrHistogram plot: 1/(1-q), drawn on a log
/// scale, so 50% is 2, 90% is 10, 99% is 100, and each further nine a decade more.
fn percentile_x(q: f64) -> f64 {
    1.0 / (1.0 - q)
}

/// The percentile at `x` = 1/(1-q), as an axis label: 2 is "50%", 1000 is "99.9%".
fn percentile_label(x: f64) -> String {
    let percent = (1.0 - 1.0 / x) * 100.0;
    let text = format!("{percent:.4}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

/// One server's latency curve: (1/(1-q), µs) points.
#[derive(Debug, Clone)]
struct Curve {
    color: RGBColor,
    points: Vec<(f64, f64)>,
    /// Drawn from the four recorded percentiles (no histogram): marked with dots.
    sparse: bool,
}

/// The windows' histograms of a server merged into one: all its requests of the scenario
/// together, so the tail has every window's rare slow requests (the median window alone
/// would show a third of them, and which third depends on the throughput's noise). Each
/// window counts by its requests: the windows are equally long, so a slow one counts less,
/// as it would in one long run. `None` when no window has a histogram (reports before they
/// were kept) or none decodes.
fn merged(runs: &[&Run]) -> Option<Histogram<u64>> {
    let mut all = Histogram::<u64>::new(3).ok()?;
    let mut any = false;
    for run in runs {
        let Some(text) = &run.histogram else { continue };
        if let Ok(h) = histograms::decode(text) {
            // `new` resizes as needed, so adding only fails on an overflowing count.
            any |= all.add(&h).is_ok();
        }
    }
    (any && !all.is_empty()).then_some(all)
}

/// The curve of a histogram: latency at percentiles evenly spaced on the 1/(1-q) log axis,
/// up to the last percentile its requests resolve (1 - 1/count) or the axis's end.
fn histogram_curve(h: &Histogram<u64>) -> Vec<(f64, f64)> {
    let count = h.len() as f64;
    let end = count.log10().min(X_MAX_DECADES);
    let mut points = Vec::new();
    let steps = (end * STEPS_PER_DECADE).floor() as usize;
    for step in 0..=steps {
        let x = 10f64.powf(step as f64 / STEPS_PER_DECADE);
        points.push((x, h.value_at_quantile(1.0 - 1.0 / x).max(1) as f64));
    }
    let last = 10f64.powf(end);
    if points.last().is_some_and(|(x, _)| *x < last) {
        points.push((last, h.value_at_quantile(1.0 - 1.0 / last).max(1) as f64));
    }
    points
}

/// The recorded percentiles as points, for reports without histograms.
fn percentile_points(p: Percentiles) -> Vec<(f64, f64)> {
    [(0.5, p.p50), (0.9, p.p90), (0.99, p.p99), (0.999, p.p999)]
        .into_iter()
        .map(|(q, us)| (percentile_x(q), us.max(1) as f64))
        .collect()
}

/// The curves of a latency chart, or `None` when no server has anything to draw. Servers
/// with histograms are drawn from them; servers without one are left out. Only when no server
/// of the chart has a histogram (reports written before they were kept) are the recorded
/// percentiles drawn instead, for every server, and the chart says so: one chart never mixes
/// the two sources.
fn latency_curves(
    entries: &[Entry<'_>],
    runs: impl Fn(&ScenarioReport) -> Vec<&Run>,
    percentiles: impl Fn(&ScenarioReport) -> Option<Percentiles>,
) -> Option<Vec<Curve>> {
    let from_histograms: Vec<Curve> = entries
        .iter()
        .filter_map(|e| {
            let points = histogram_curve(&merged(&runs(e.scenario))?);
            (points.len() >= 2).then_some(Curve {
                color: e.color,
                points,
                sparse: false,
            })
        })
        .collect();
    if !from_histograms.is_empty() {
        return Some(from_histograms);
    }
    let recorded: Vec<Curve> = entries
        .iter()
        .filter(|e| !runs(e.scenario).is_empty())
        .filter_map(|e| {
            Some(Curve {
                color: e.color,
                points: percentile_points(percentiles(e.scenario)?),
                sparse: true,
            })
        })
        .collect();
    (!recorded.is_empty()).then_some(recorded)
}

/// The common fixed rate of a scenario's servers, or its range if they differ.
fn fixed_rate_label(entries: &[Entry<'_>]) -> String {
    let rates: Vec<f64> = entries
        .iter()
        .filter_map(|e| Some(e.scenario.fixed_rate.as_ref()?.requests_per_sec))
        .collect();
    let Some(stat) = Stat::of(&rates) else {
        return "a common rate".into();
    };
    if stat.min == stat.max {
        format!("{:.0}", stat.min)
    } else {
        format!("{:.0}–{:.0}", stat.min, stat.max)
    }
}

/// The ends and ticks of a log axis covering `lo..hi`: ends on the 1-2-5 series with a tick
/// at each 1-2-5 value between, or, where that would make more than seven ticks, ends and
/// ticks on powers of ten.
fn log_axis(lo: f64, hi: f64) -> (f64, f64, Vec<f64>) {
    let lo = if lo.is_finite() { lo.max(1.0) } else { 1.0 };
    let hi = if hi.is_finite() { hi.max(lo) } else { lo };
    let series: Vec<f64> = (0..12)
        .flat_map(|decade| [1.0, 2.0, 5.0].map(|m| m * 10f64.powi(decade)))
        .collect();
    let below = |v: f64, of: &[f64]| of.iter().copied().rfind(|s| *s <= v);
    let above = |v: f64, of: &[f64]| of.iter().copied().find(|s| *s >= v);
    let mut start = below(lo, &series).unwrap_or(1.0);
    let mut end = above(hi, &series).unwrap_or(hi);
    if end <= start {
        end = above(start * 1.5, &series).unwrap_or(start * 2.0);
    }
    let mut ticks: Vec<f64> = series
        .iter()
        .copied()
        .filter(|v| *v >= start && *v <= end)
        .collect();
    if ticks.len() > 7 {
        let powers: Vec<f64> = (0..12).map(|d| 10f64.powi(d)).collect();
        start = below(lo, &powers).unwrap_or(1.0);
        end = above(hi, &powers).unwrap_or(end);
        ticks = powers
            .into_iter()
            .filter(|v| *v >= start && *v <= end)
            .collect();
    }
    (start, end, ticks)
}

/// A latency in µs as an axis label: 500 µs, 2 ms, 1 s.
fn latency_label(us: f64) -> String {
    let (value, unit) = if us >= 1e6 {
        (us / 1e6, "s")
    } else if us >= 1e3 {
        (us / 1e3, "ms")
    } else {
        (us, "µs")
    };
    let text = format!("{value:.1}");
    format!(
        "{} {unit}",
        text.trim_end_matches('0').trim_end_matches('.')
    )
}

/// All curves overlaid on log-log axes: percentile (as 1/(1-q)) across, latency up.
fn latency_chart(title: &str, curves: &[Curve]) -> Result<String, String> {
    let values = curves.iter().flat_map(|c| c.points.iter().map(|p| p.1));
    let lo = values.clone().fold(f64::INFINITY, f64::min);
    let hi = values.fold(0.0, f64::max);
    // A little room, so that a point on a round number is not cut by the frame.
    let (y_lo, y_hi, y_ticks) = log_axis(lo / 1.05, hi * 1.05);
    let x_ticks = vec![2.0, 10.0, 100.0, 1_000.0, 10_000.0];
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, 260)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = ChartBuilder::on(&root)
            .caption(
                title,
                (FontFamily::SansSerif, CAPTION)
                    .into_font()
                    .style(FontStyle::Bold),
            )
            .margin(6)
            .margin_right(22)
            .x_label_area_size(26)
            .y_label_area_size(62)
            .build_cartesian_2d(
                (1.0..10f64.powf(X_MAX_DECADES))
                    .log_scale()
                    .with_key_points(x_ticks),
                (y_lo..y_hi).log_scale().with_key_points(y_ticks),
            )
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_label_formatter(&|x| percentile_label(*x))
            .y_label_formatter(&|y| latency_label(*y))
            .label_style((FontFamily::SansSerif, FONT))
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .axis_style(WHISKER)
            .draw()
            .map_err(|e| e.to_string())?;
        for curve in curves {
            let series = LineSeries::new(curve.points.iter().copied(), curve.color.stroke_width(2));
            let series = if curve.sparse {
                series.point_size(3)
            } else {
                series
            };
            chart.draw_series(series).map_err(|e| e.to_string())?;
        }
        if curves.iter().all(|c| c.sparse) {
            chart
                .draw_series(std::iter::once(Text::new(
                    "recorded p50–p99.9 only, no histograms",
                    (1.1, y_hi / 1.12),
                    (FontFamily::SansSerif, FONT * 0.85)
                        .into_font()
                        .color(&WHISKER)
                        .pos(Pos::new(HPos::Left, VPos::Top)),
                )))
                .map_err(|e| e.to_string())?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(titled(svg, title))
}

/// One server's instructions per request, split by crate group.
#[derive(Debug, Clone)]
struct Stack {
    label: String,
    /// (group, instructions) in the order of [`GROUPS`], unknown groups last.
    segments: Vec<(String, f64)>,
    /// The median of the repeats, as the tables show it; the segments are the last repeat's
    /// breakdown, within 1% of it.
    total: f64,
}

fn group_rank(group: &str) -> usize {
    GROUPS
        .iter()
        .position(|(name, _)| *name == group)
        .unwrap_or(GROUPS.len())
}

/// The segment of a server whose instructions are not split by crate (not Rust).
const NOT_SPLIT: &str = "not split by crate";

fn group_color(group: &str) -> RGBColor {
    GROUPS
        .iter()
        .find(|(name, _)| *name == group)
        .map_or(UNKNOWN_GROUP, |(_, color)| *color)
}

fn stacks(entries: &[Entry<'_>]) -> Vec<Stack> {
    entries
        .iter()
        .filter_map(|e| {
            let cost = e.scenario.cost.as_ref()?;
            let mut segments: Vec<(String, f64)> = cost
                .by_group
                .iter()
                .filter(|(_, v)| v.is_finite() && **v > 0.0)
                .map(|(k, v)| (k.clone(), *v))
                .collect();
            segments.sort_by_key(|(group, _)| group_rank(group));
            let total = cost
                .instructions_per_request()
                .filter(|v| v.is_finite() && *v > 0.0);
            // A `--server` in another language is counted but not split by crate: one segment.
            if let (true, Some(total)) = (segments.is_empty(), total) {
                segments.push((NOT_SPLIT.to_owned(), total));
            }
            let sum: f64 = segments.iter().map(|s| s.1).sum();
            let total = total.unwrap_or(sum);
            (sum > 0.0).then(|| Stack {
                label: e.server.name.clone(),
                segments,
                total,
            })
        })
        .collect()
}

fn used_groups(report: &Report) -> Vec<String> {
    let mut groups: Vec<String> = report
        .backends
        .iter()
        .flat_map(|b| &b.scenarios)
        .filter_map(|s| s.cost.as_ref())
        .flat_map(|c| {
            let unsplit = c.by_group.is_empty() && c.instructions_per_request().is_some();
            c.by_group
                .keys()
                .cloned()
                .chain(unsplit.then(|| NOT_SPLIT.to_owned()))
        })
        .collect();
    groups.sort_by(|a, b| group_rank(a).cmp(&group_rank(b)).then(a.cmp(b)));
    groups.dedup();
    groups
}

/// One horizontal bar per server, its segments the crate groups, the total at its end.
fn stacked_chart(title: &str, stacks: &[Stack]) -> Result<String, String> {
    let n = stacks.len();
    let labels: Vec<String> = stacks.iter().map(|s| label(&s.label)).collect();
    let longest = stacks
        .iter()
        .map(|s| s.segments.iter().map(|g| g.1).sum::<f64>())
        .fold(0.0, f64::max);
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (WIDTH, bar_chart_height(n))).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let mut chart = bar_frame(&root, title, &labels, bar_axis_end(longest))?;
        let err = |e: DrawingAreaErrorKind<std::io::Error>| e.to_string();
        for (i, stack) in stacks.iter().enumerate() {
            let y = row_y(n, i);
            let mut start = 0.0;
            let mut rects = Vec::new();
            for (group, value) in &stack.segments {
                rects.push(Rectangle::new(
                    [(start, y - 0.32), (start + value, y + 0.32)],
                    group_color(group).filled(),
                ));
                start += value;
            }
            chart.draw_series(rects).map_err(err)?;
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((start, y))
                        + Text::new(short(stack.total), (6, 0), value_style()),
                ))
                .map_err(err)?;
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(titled(svg, title))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{run, sample};

    #[test]
    fn every_server_of_the_default_run_has_a_colour_of_its_own() {
        let default_run = crate::workspace::backends::ALL.len() + 1;
        assert!(
            SERVER_COLORS.len() > default_run,
            "{} colours for {default_run} servers and room for a --server",
            SERVER_COLORS.len()
        );
        let mut distinct: Vec<_> = SERVER_COLORS.iter().map(|c| (c.0, c.1, c.2)).collect();
        distinct.sort_unstable();
        distinct.dedup();
        assert_eq!(distinct.len(), SERVER_COLORS.len());
    }

    /// The opening tags `<name ...>` of an SVG.
    fn tags<'a>(svg: &'a str, name: &str) -> Vec<&'a str> {
        let open = format!("<{name} ");
        svg.match_indices(&open)
            .filter_map(|(at, _)| svg[at..].find('>').map(|end| &svg[at..at + end]))
            .collect()
    }

    fn attr<'a>(tag: &'a str, name: &str) -> &'a str {
        let key = format!(" {name}=\"");
        let start = tag.find(&key).map_or(tag.len(), |at| at + key.len());
        let rest = &tag[start..];
        &rest[..rest.find('"').unwrap_or(rest.len())]
    }

    fn number(tag: &str, name: &str) -> f64 {
        attr(tag, name).parse().unwrap_or(f64::NAN)
    }

    /// The points of a `<polyline>`.
    fn points(tag: &str) -> Vec<(f64, f64)> {
        attr(tag, "points")
            .split_whitespace()
            .filter_map(|p| {
                let (x, y) = p.split_once(',')?;
                Some((x.parse().ok()?, y.parse().ok()?))
            })
            .collect()
    }

    /// The text of every `<text>`.
    fn texts(svg: &str) -> Vec<String> {
        svg.split("<text ")
            .skip(1)
            .filter_map(|t| {
                let body = &t[t.find('>')? + 1..];
                Some(body[..body.find("</text>")?].trim().to_owned())
            })
            .collect()
    }

    fn color_attr(color: RGBColor) -> String {
        hex(color).to_uppercase()
    }

    #[test]
    fn a_whisker_spans_from_min_to_max_on_the_bars_scale() {
        let bar = Bar {
            label: "axum".into(),
            color: SERVER_COLORS[2],
            stat: Stat {
                median: 75.0,
                min: 50.0,
                max: 100.0,
            },
            lower_bound: true,
        };
        let svg = whisker_chart("plaintext: requests/s", &[bar]).expect("drawn");
        let rect = tags(&svg, "rect")
            .into_iter()
            .find(|r| attr(r, "fill") == color_attr(SERVER_COLORS[2]))
            .expect("the median bar");
        // The bar runs from the value 0 to the median: that gives the scale.
        let zero = number(rect, "x");
        let per_unit = number(rect, "width") / 75.0;
        let whiskers: Vec<Vec<(f64, f64)>> = tags(&svg, "polyline")
            .into_iter()
            .filter(|p| attr(p, "stroke-width") == "2")
            .map(points)
            .collect();
        let horizontal = whiskers
            .iter()
            .find(|p| p.len() == 2 && p[0].1 == p[1].1)
            .expect("the whisker line");
        assert!(
            (horizontal[0].0 - (zero + 50.0 * per_unit)).abs() <= 1.0,
            "{svg}"
        );
        assert!(
            (horizontal[1].0 - (zero + 100.0 * per_unit)).abs() <= 1.0,
            "{svg}"
        );
        // Caps at both ends, across the line.
        for end in [horizontal[0].0, horizontal[1].0] {
            assert!(
                whiskers
                    .iter()
                    .any(|p| p.len() == 2 && p[0].0 == end && p[1].0 == end),
                "no cap at {end}: {svg}"
            );
        }
        // A client-bound rate is a lower bound.
        assert!(texts(&svg).contains(&"≥75.0".to_owned()), "{svg}");
    }

    #[test]
    fn percentiles_map_to_one_over_one_minus_q() {
        for (q, x, label) in [
            (0.5, 2.0, "50%"),
            (0.9, 10.0, "90%"),
            (0.99, 100.0, "99%"),
            (0.999, 1_000.0, "99.9%"),
            (0.9999, 10_000.0, "99.99%"),
        ] {
            assert!((percentile_x(q) - x).abs() < x * 1e-9, "{q}");
            assert_eq!(percentile_label(x), label);
        }
    }

    #[test]
    fn a_histogram_curve_rises_to_the_last_resolved_percentile() {
        let mut h = Histogram::<u64>::new(3).expect("histogram");
        for us in 1..=1_000 {
            h.record(us).expect("in range");
        }
        let curve = histogram_curve(&h);
        assert_eq!(curve.first(), Some(&(1.0, 1.0)));
        let (x, us) = curve.last().copied().expect("points");
        assert!((x - 1_000.0).abs() < 1e-6, "ends at 1/(1-q) = count: {x}");
        assert!((999.0..=1_001.0).contains(&us), "{us}");
        assert!(
            curve
                .windows(2)
                .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1)
        );
        // The median is the median.
        let median = curve
            .iter()
            .find(|(x, _)| (*x - 10f64.powf(0.3)).abs() < 0.01);
        assert!(median.is_some_and(|(_, us)| (495.0..=505.0).contains(us)));
    }

    /// The sample report with `names` as its servers; `None`: that server's windows have no
    /// histogram.
    fn servers(names: &[(&str, bool)]) -> Report {
        let mut report = sample();
        let template = report.backends[0].clone();
        report.backends = names
            .iter()
            .map(|(name, histograms)| {
                let mut b = template.clone();
                b.name = (*name).into();
                for run in &mut b.scenarios[0].runs {
                    if !histograms {
                        run.histogram = None;
                    }
                }
                b
            })
            .collect();
        report
    }

    fn section<'a>(sections: &'a [Section], title: &str) -> Option<&'a Section> {
        sections.iter().find(|s| s.title == title)
    }

    #[test]
    fn every_server_with_a_histogram_has_a_curve() {
        let report = servers(&[("axum", true), ("warp", true), ("rocket", false)]);
        let sections = sections(&report);
        let latency = section(&sections, "Latency by percentile").expect("latency charts");
        assert_eq!(latency.charts.len(), 1);
        let svg = &latency.charts[0];
        let curves = |i: usize| {
            tags(svg, "polyline")
                .into_iter()
                .filter(|p| attr(p, "stroke") == color_attr(SERVER_COLORS[i]))
                .filter(|p| points(p).len() > 10)
                .count()
        };
        assert_eq!((curves(0), curves(1), curves(2)), (1, 1, 0), "{svg}");
        assert!(!svg.contains("recorded p50"));
    }

    #[test]
    fn without_histograms_the_recorded_percentiles_are_joined_and_said_to_be() {
        let report = servers(&[("axum", false), ("warp", false)]);
        let sections = sections(&report);
        let latency = section(&sections, "Latency by percentile").expect("latency charts");
        let svg = &latency.charts[0];
        for color in &SERVER_COLORS[..2] {
            let line = tags(svg, "polyline")
                .into_iter()
                .find(|p| attr(p, "stroke") == color_attr(*color))
                .expect("a line per server");
            assert_eq!(points(line).len(), 4, "p50, p90, p99, p99.9");
        }
        assert!(svg.contains("recorded p50–p99.9 only"));
        assert!(latency.intro.contains("no latency histograms"));
    }

    #[test]
    fn a_fixed_rate_gets_its_own_latency_chart() {
        let mut report = servers(&[("axum", true), ("warp", false)]);
        for b in &mut report.backends {
            b.scenarios[0].fixed_rate = Some(crate::report::FixedRate {
                requests_per_sec: 27_646.0,
                run: run(27_646.0),
                repeats: Vec::new(),
            });
        }
        let sections = sections(&report);
        let fixed = section(&sections, "Latency at a fixed rate").expect("fixed-rate charts");
        assert_eq!(fixed.charts.len(), 1);
        assert!(fixed.charts[0].contains("plaintext at 27646 req/s, fixed rate"));
    }

    #[test]
    fn instructions_stack_by_group_in_order_and_in_proportion() {
        let mut report = servers(&[("axum", true)]);
        report.backends[0].scenarios[0].cost = Some(crate::report::scenario_cost::ScenarioCost {
            instructions: vec![1_000.0],
            by_group: [
                ("tokio".to_owned(), 200.0),
                ("site-core".to_owned(), 100.0),
                ("framework".to_owned(), 300.0),
                ("other".to_owned(), 400.0),
            ]
            .into(),
            ..Default::default()
        });
        let sections = sections(&report);
        let stacked = section(&sections, "Instructions per request, by crate").expect("chart");
        let legend: Vec<&str> = stacked.legend.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(legend, ["site-core", "framework", "tokio", "other"]);
        let svg = &stacked.charts[0];
        let segments: Vec<&str> = tags(svg, "rect")
            .into_iter()
            .filter(|r| attr(r, "fill") != "#FFFFFF")
            .collect();
        let order: Vec<String> = segments
            .iter()
            .map(|r| attr(r, "fill").to_owned())
            .collect();
        let expected: Vec<String> = ["site-core", "framework", "tokio", "other"]
            .iter()
            .map(|g| color_attr(group_color(g)))
            .collect();
        assert_eq!(order, expected);
        // Side by side from 0, each as wide as its share of the whole bar.
        let zero = number(segments[0], "x");
        let last = segments[segments.len() - 1];
        let whole = number(last, "x") + number(last, "width") - zero;
        let mut end = zero;
        for (rect, value) in segments.iter().zip([100.0, 300.0, 200.0, 400.0]) {
            assert!((number(rect, "x") - end).abs() <= 1.0, "{svg}");
            end = number(rect, "x") + number(rect, "width");
            assert!(
                (number(rect, "width") - value / 1_000.0 * whole).abs() <= 1.5,
                "{svg}"
            );
        }
        assert!(texts(svg).contains(&"1000".to_owned()), "{svg}");
    }

    #[test]
    fn a_server_counted_but_not_split_is_one_segment() {
        let mut report = servers(&[("py", true)]);
        report.backends[0].scenarios[0].cost = Some(crate::report::scenario_cost::ScenarioCost {
            instructions: vec![200_000.0],
            ..Default::default()
        });
        let sections = sections(&report);
        let stacked = section(&sections, "Instructions per request, by crate").expect("chart");
        let legend: Vec<&str> = stacked.legend.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(legend, [NOT_SPLIT]);
        let svg = &stacked.charts[0];
        let segments: Vec<&str> = tags(svg, "rect")
            .into_iter()
            .filter(|r| attr(r, "fill") != "#FFFFFF")
            .collect();
        assert_eq!(segments.len(), 1, "{svg}");
        assert!(texts(svg).iter().any(|t| t.contains("200")), "{svg}");
    }

    #[test]
    fn an_empty_or_degenerate_report_renders() {
        let mut report = sample();
        report.backends.clear();
        assert!(sections(&report).is_empty());
        assert!(!crate::output::report_html::page(&report, None).contains("<svg"));

        let mut report = servers(&[("axum", true), ("warp", true), ("rocket", true)]);
        let zero = Stat {
            median: 0.0,
            min: 0.0,
            max: 0.0,
        };
        if let Some(s) = report.backends[0].scenarios[0].summary.as_mut() {
            s.requests_per_sec = zero;
            s.server_cpu_us_per_request = None;
        }
        if let Some(s) = report.backends[1].scenarios[0].summary.as_mut() {
            s.requests_per_sec.median = f64::NAN;
        }
        report.backends[1].scenarios[0].runs[0].histogram = Some("not a histogram".into());
        report.backends[2].scenarios[0].summary = None;
        report.backends[2].scenarios[0].runs.clear();
        report.backends[2].scenarios[0].cost =
            Some(crate::report::scenario_cost::ScenarioCost::default());
        let sections = sections(&report);
        let bars = section(&sections, "Requests per second").expect("requests/s");
        let labels = texts(&bars.charts[0]);
        assert!(labels.contains(&"axum".to_owned()), "{labels:?}");
        assert!(
            !labels.contains(&"warp".to_owned()),
            "a NaN median is no bar"
        );
        assert!(section(&sections, "Instructions per request, by crate").is_none());
        let page = crate::output::report_html::page(&report, None);
        assert!(page.contains("<svg") && !page.contains("chart not drawn"));
    }

    #[test]
    fn log_axes_end_on_round_numbers() {
        assert_eq!(
            log_axis(150.0, 4_000.0),
            (
                100.0,
                5_000.0,
                vec![100.0, 200.0, 500.0, 1_000.0, 2_000.0, 5_000.0]
            )
        );
        assert_eq!(
            log_axis(20.0, 9_000.0),
            (10.0, 10_000.0, vec![10.0, 100.0, 1_000.0, 10_000.0])
        );
        let (lo, hi, ticks) = log_axis(1_000.0, 1_000.0);
        assert!(lo <= 1_000.0 && hi > lo && ticks.len() >= 2);
        assert_eq!(latency_label(2_000.0), "2 ms");
        assert_eq!(latency_label(500.0), "500 µs");
        assert_eq!(latency_label(1_500_000.0), "1.5 s");
    }

    #[test]
    fn figures_keep_three_digits() {
        assert_eq!(short(138_024.0), "138k");
        assert_eq!(short(26_041.7), "26.0k");
        assert_eq!(short(9.9977), "10.0");
        assert_eq!(short(1_234_567.0), "1.23M");
        assert_eq!(short(8.5), "8.50");
        assert_eq!(tick(20.0), "20");
        assert_eq!(tick(50_000.0), "50k");
        assert_eq!(tick(2.5), "2.5");
    }
}
