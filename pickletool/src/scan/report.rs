//! The scan's results as text for people, JSON for scripts (`{"files": [...]}`, keys stable)
//! and SARIF 2.1.0 for code-scanning dashboards.

use std::collections::BTreeMap;
use std::fmt::Write;

use pickle_core::scan::Arg;
use serde_json::{json, Value};

use super::{FileReport, Judged, Verdict};

/// How many offsets of one grouped name the text lists.
const OFFSETS_SHOWN: usize = 3;

/// A line per pickle with its verdict, then its findings grouped by verdict, action and
/// name (the unsafe ones always, the safe ones with `--all`), then a summary.
pub fn text(reports: &[FileReport], all: bool) -> String {
    let mut out = String::new();
    for report in reports {
        let member = report.member.as_deref().map(|m| format!(" {m}")).unwrap_or_default();
        let _ = writeln!(out, "{} [{}{member}]: {}", report.path, report.container, report.verdict.as_str());
        for (key, group) in groups(&report.findings) {
            if key.0 == Verdict::Safe && !all {
                continue;
            }
            let _ = writeln!(out, "  {}", group_line(&key, &group));
        }
        if let Some(error) = &report.error {
            let _ = writeln!(out, "  error: {error}");
        }
    }
    let count = |v: Verdict| reports.iter().filter(|r| r.verdict == v).count();
    let errors = reports.iter().filter(|r| r.error.is_some()).count();
    let _ = writeln!(
        out,
        "{} pickles: {} safe, {} unknown, {} dangerous; {} with errors",
        reports.len(),
        count(Verdict::Safe),
        count(Verdict::Unknown),
        count(Verdict::Dangerous),
        errors
    );
    out
}

type GroupKey = (Verdict, &'static str, String);

/// Findings of one verdict, action and name, worst first, each group in offset order.
fn groups(findings: &[Judged]) -> Vec<(GroupKey, Vec<&Judged>)> {
    let mut map: BTreeMap<(std::cmp::Reverse<Verdict>, &'static str, String), Vec<&Judged>> = BTreeMap::new();
    for judged in findings {
        let key = (std::cmp::Reverse(judged.verdict), judged.found.action.as_str(), dotted(judged));
        map.entry(key).or_default().push(judged);
    }
    let mut groups: Vec<_> = map.into_iter().map(|((v, a, n), g)| ((v.0, a, n), g)).collect();
    groups.sort_by_key(|((v, _, _), g)| (std::cmp::Reverse(*v), place(g[0])));
    groups
}

/// Where a finding is in the file's pickle: a nested pickle's findings at the bytes holding it.
fn place(judged: &Judged) -> (u64, u64) {
    match judged.found.nested_in.first() {
        Some(&outer) => (outer, judged.found.offset),
        None => (judged.found.offset, 0),
    }
}

fn group_line((verdict, action, name): &GroupKey, group: &[&Judged]) -> String {
    let offsets: Vec<String> = group.iter().take(OFFSETS_SHOWN).map(|j| offset_text(j)).collect();
    let more = match group.len() > OFFSETS_SHOWN {
        true => format!(" (+{} more)", group.len() - OFFSETS_SHOWN),
        false => String::new(),
    };
    let reason = if *verdict == Verdict::Safe { String::new() } else { format!(": {}", group[0].reason) };
    format!("{:<9} {:<9} {name} at {}{more}{reason}", verdict.as_str(), action, offsets.join(", "))
}

/// An offset, with the offsets of the bytes a nested pickle is in: `120 in 44`.
fn offset_text(judged: &Judged) -> String {
    let mut text = judged.found.offset.to_string();
    for outer in judged.found.nested_in.iter().rev() {
        let _ = write!(text, " in nested pickle at {outer}");
    }
    text
}

fn dotted(judged: &Judged) -> String {
    match judged.found.name.is_empty() {
        true => judged.found.module.clone(),
        false => format!("{}.{}", judged.found.module, judged.found.name),
    }
}

/// `{"files": [{"path", "member", "container", "verdict", "error", "findings": [{"module",
/// "name", "verdict", "offset", "action", "opcode", "nested_in", "reason", "args"}]}]}`.
pub fn json(reports: &[FileReport]) -> String {
    let files: Vec<Value> = reports
        .iter()
        .map(|r| {
            json!({
                "path": r.path,
                "member": r.member,
                "container": r.container,
                "verdict": r.verdict.as_str(),
                "error": r.error,
                "findings": r.findings.iter().map(finding_json).collect::<Vec<_>>(),
            })
        })
        .collect();
    format!("{}\n", json!({ "files": files }))
}

fn finding_json(judged: &Judged) -> Value {
    let f = &judged.found;
    json!({
        "module": f.module,
        "name": f.name,
        "verdict": judged.verdict.as_str(),
        "offset": f.offset,
        "action": f.action.as_str(),
        "opcode": f.opcode.name(),
        "nested_in": f.nested_in,
        "reason": judged.reason,
        "args": f.args.iter().map(arg_json).collect::<Vec<_>>(),
    })
}

/// A call's argument in short: a str's text, a global's dotted name, otherwise its kind.
fn arg_json(arg: &Arg) -> Value {
    match arg {
        Arg::Atom => json!({ "type": "atom" }),
        Arg::Str(s) => json!({ "type": "str", "value": s }),
        Arg::Bytes(n) => json!({ "type": "bytes", "length": n }),
        Arg::Global(m, n) => json!({ "type": "global", "module": m, "name": n }),
        Arg::Other(t) => json!({ "type": t }),
        _ => json!({ "type": "?" }),
    }
}

/// SARIF 2.1.0: one result per finding that is not safe and per error, located by byte
/// offset in the file (a member's name in the message).
pub fn sarif(reports: &[FileReport]) -> String {
    let mut results = Vec::new();
    for report in reports {
        let within = report.member.as_deref().map(|m| format!(" (member {m})")).unwrap_or_default();
        for judged in report.findings.iter().filter(|j| j.verdict != Verdict::Safe) {
            let rule = if judged.verdict == Verdict::Dangerous { "dangerous-global" } else { "unknown-global" };
            let level = if judged.verdict == Verdict::Dangerous { "error" } else { "warning" };
            let message = format!("{} {}{within}: {}", judged.found.action.as_str(), dotted(judged), judged.reason);
            let region = match report.member.is_none() && judged.found.nested_in.is_empty() {
                true => json!({ "byteOffset": judged.found.offset, "byteLength": 1 }),
                false => json!({}),
            };
            results.push(json!({
                "ruleId": rule,
                "level": level,
                "message": { "text": message },
                "locations": [{ "physicalLocation": {
                    "artifactLocation": { "uri": report.path },
                    "region": region,
                }}],
            }));
        }
        if let Some(error) = &report.error {
            results.push(json!({
                "ruleId": "scan-error",
                "level": "error",
                "message": { "text": format!("{error}{within}") },
                "locations": [{ "physicalLocation": { "artifactLocation": { "uri": report.path } } }],
            }));
        }
    }
    let rules = [
        ("dangerous-global", "A pickle imports or calls something known to run code, touch files or reach the network"),
        ("unknown-global", "A pickle imports or calls something the policy does not allow"),
        ("scan-error", "A pickle or container could not be read to its end"),
    ];
    let rules: Vec<Value> =
        rules.iter().map(|(id, text)| json!({ "id": id, "shortDescription": { "text": text } })).collect();
    let log = json!({
        "version": "2.1.0",
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "runs": [{
            "tool": { "driver": { "name": "pickletool", "version": env!("CARGO_PKG_VERSION"), "rules": rules } },
            "results": results,
        }],
    });
    format!("{log}\n")
}
