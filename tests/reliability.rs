//! `docs/reliability.md` from the rows the tests recorded (see
//! `nicsrs_sandbox::reliability`). `scripts/test.sh` clears the
//! rows, runs every test on both Terraform versions, then runs this test,
//! which fails when the page differs from what was measured;
//! `UPDATE_DOCS=1` rewrites it.

use std::collections::BTreeMap;
use std::path::Path;

use nicsrs_sandbox::reliability::{dir, Kind, Row};

fn rows() -> Vec<Row> {
    let mut rows = Vec::new();
    for entry in std::fs::read_dir(dir()).into_iter().flatten().flatten() {
        let text = std::fs::read_to_string(entry.path()).expect("row");
        rows.push(serde_json::from_str::<Row>(&text).expect("a row"));
    }
    rows
}

fn render(rows: &[Row]) -> String {
    let mut by_scenario: BTreeMap<(Kind, &str), Vec<&Row>> = BTreeMap::new();
    for row in rows {
        by_scenario
            .entry((row.kind, row.scenario.as_str()))
            .or_default()
            .push(row);
    }
    let mut page = String::from(
        "# Reliability\n\n\
         What the test suite (`scripts/test.sh`) tried and measured, one row per fault, bad input and \
         hostile-server case. Every number is the suite's own: this page is rendered from the rows the \
         tests record and checked against them on every run. \"Runs\" counts each Terraform version (or \
         the in-process client) that ran the case; orders are summed over the runs; a duplicate is an \
         order beyond the expected ones; a token leak is an output that showed the API token; a crash is \
         an output that showed a provider panic or crash.\n",
    );
    let mut totals = [0u64; 5];
    let mut kind = None;
    for ((row_kind, scenario), runs) in &by_scenario {
        if kind != Some(*row_kind) {
            kind = Some(*row_kind);
            page.push_str(&format!(
                "\n## {}\n\n| case | runs | orders expected | orders placed | duplicates | token leaks | crashes |\n|---|---|---|---|---|---|---|\n",
                row_kind.heading()
            ));
        }
        let sum = |f: fn(&Row) -> u64| runs.iter().map(|r| f(r)).sum::<u64>();
        let expected = sum(|r| r.orders_expected);
        let placed = sum(|r| r.orders_placed);
        let duplicates = sum(|r| r.orders_placed.saturating_sub(r.orders_expected));
        let (leaks, crashes) = (sum(|r| r.token_leaks), sum(|r| r.crashes));
        let mut runners: Vec<&str> = runs.iter().map(|r| r.runner.as_str()).collect();
        runners.sort();
        page.push_str(&format!(
            "| {} | {} ({}) | {expected} | {placed} | {duplicates} | {leaks} | {crashes} |\n",
            scenario.replace('|', "\\|"),
            runs.len(),
            runners.join(", ")
        ));
        for (total, value) in totals
            .iter_mut()
            .zip([expected, placed, duplicates, leaks, crashes])
        {
            *total += value;
        }
    }
    page.push_str(&format!(
        "\n## Totals\n\n{} cases, {} runs: {} orders expected, {} placed, {} duplicates, {} token leaks, {} crashes.\n",
        by_scenario.len(),
        rows.len(),
        totals[0],
        totals[1],
        totals[2],
        totals[3],
        totals[4]
    ));
    page
}

#[test]
#[ignore = "run by scripts/test.sh after the whole suite has recorded its rows"]
fn the_reliability_page_shows_what_the_suite_measured() {
    let rows = rows();
    assert!(
        rows.len() > 40,
        "only {} rows in {}: run scripts/test.sh, which records them",
        rows.len(),
        dir().display()
    );
    let page = render(&rows);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/reliability.md");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &page).expect("write docs/reliability.md");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == page,
        "docs/reliability.md differs from what the suite measured. Run `UPDATE_DOCS=1 scripts/test.sh` \
         and commit.\n\n{page}"
    );
    for row in &rows {
        assert_eq!(row.token_leaks, 0, "{row:?}");
        assert_eq!(row.crashes, 0, "{row:?}");
        assert!(
            row.orders_placed <= row.orders_expected,
            "a duplicate: {row:?}"
        );
    }
}
