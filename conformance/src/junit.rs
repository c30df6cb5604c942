//! JUnit XML, the report format CI systems read: one `testsuite` per suite, one `testcase` per
//! test, `failure` with every reason, `skipped` with its reason.

use crate::suites::{Outcome, TestResult};
use crate::xmltree::escape;

/// The JUnit XML document of a run.
pub fn report(results: &[TestResult]) -> String {
    let mut suites: Vec<&str> = Vec::new();
    for result in results {
        if !suites.contains(&result.suite.as_str()) {
            suites.push(&result.suite);
        }
    }
    let count = |filter: &dyn Fn(&TestResult) -> bool| results.iter().filter(|r| filter(r)).count();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"xds-conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\">\n",
        results.len(),
        count(&|result| matches!(result.outcome, Outcome::Failed(_))),
        count(&|result| matches!(result.outcome, Outcome::Skipped(_))),
    ));
    for suite in suites {
        let members: Vec<&TestResult> = results
            .iter()
            .filter(|result| result.suite == suite)
            .collect();
        let seconds: f64 = members
            .iter()
            .map(|result| result.duration.as_secs_f64())
            .sum();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{seconds:.3}\">\n",
            escape(suite, true),
            members.len(),
            members.iter().filter(|result| matches!(result.outcome, Outcome::Failed(_))).count(),
            members.iter().filter(|result| matches!(result.outcome, Outcome::Skipped(_))).count(),
        ));
        for result in members {
            out.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(suite, true),
                escape(&result.name, true),
                result.duration.as_secs_f64()
            ));
            let notes = if result.known.is_empty() {
                String::new()
            } else {
                format!(
                    "      <system-out>{}</system-out>\n",
                    escape(
                        &format!("known failures: {}", result.known.join("; ")),
                        false
                    )
                )
            };
            match &result.outcome {
                Outcome::Passed if notes.is_empty() => out.push_str("/>\n"),
                Outcome::Passed => out.push_str(&format!(">\n{notes}    </testcase>\n")),
                Outcome::Failed(reasons) => out.push_str(&format!(
                    ">\n      <failure message=\"{}\">{}</failure>\n{notes}    </testcase>\n",
                    escape(reasons.first().map_or("failed", String::as_str), true),
                    escape(&reasons.join("\n"), false)
                )),
                Outcome::Skipped(reason) => out.push_str(&format!(
                    ">\n      <skipped message=\"{}\"/>\n{notes}    </testcase>\n",
                    escape(reason, true)
                )),
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn failures_and_skips_are_counted_and_escaped() {
        let result = |name: &str, outcome: Outcome| TestResult {
            suite: "s".to_owned(),
            name: name.to_owned(),
            outcome,
            steps: 1,
            known: Vec::new(),
            duration: Duration::from_millis(5),
        };
        let xml = report(&[
            result("a", Outcome::Passed),
            result(
                "b<",
                Outcome::Failed(vec!["status \"Failure\" & more".to_owned()]),
            ),
            result("c", Outcome::Skipped("no repository".to_owned())),
        ]);
        assert!(
            xml.contains("tests=\"3\" failures=\"1\" skipped=\"1\""),
            "{xml}"
        );
        assert!(xml.contains("name=\"b&lt;\""), "{xml}");
        assert!(
            xml.contains("status &quot;Failure&quot; &amp; more"),
            "{xml}"
        );
        assert!(crate::xmltree::parse(&xml).is_ok(), "well-formed");
    }
}
