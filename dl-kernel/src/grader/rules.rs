//! nbgrader's rules, as nbgrader 0.9 applies them (`nbgrader/utils.py`, `preprocessors/`):
//! which cells are graded, locked or solutions, their checksums, and the points a graded cell
//! earns from its outputs.

use md5::{Digest, Md5};
use serde_json::Value;

/// A cell's `metadata.nbgrader`, if it has one.
fn nbgrader(cell: &Value) -> Option<&Value> {
    cell["metadata"].get("nbgrader")
}

fn flag(cell: &Value, name: &str) -> bool {
    nbgrader(cell).and_then(|m| m.get(name)).and_then(Value::as_bool).unwrap_or(false)
}

/// A grade cell: scored, automatically (code) or by hand (markdown, solution).
pub fn is_grade(cell: &Value) -> bool {
    flag(cell, "grade")
}

/// A solution cell: the student writes in it.
pub fn is_solution(cell: &Value) -> bool {
    flag(cell, "solution")
}

/// A locked cell: its source is restored from the teacher's version before grading. Solution
/// cells never are; grade cells always are.
pub fn is_locked(cell: &Value) -> bool {
    if nbgrader(cell).is_none() || is_solution(cell) {
        return false;
    }
    is_grade(cell) || flag(cell, "locked")
}

/// The cell's `grade_id`.
pub fn grade_id(cell: &Value) -> Option<&str> {
    nbgrader(cell)?.get("grade_id")?.as_str()
}

/// The points a grade cell is worth.
pub fn points(cell: &Value) -> f64 {
    let p = nbgrader(cell).and_then(|m| m.get("points"));
    p.and_then(Value::as_f64).or_else(|| p.and_then(Value::as_str).and_then(|s| s.trim().parse().ok())).unwrap_or(0.0)
}

/// The checksum nbgrader stored in the cell's metadata.
pub fn stored_checksum(cell: &Value) -> Option<&str> {
    nbgrader(cell)?.get("checksum")?.as_str()
}

/// nbgrader's `compute_checksum`: the MD5 of the source, the cell type, the grade, solution and
/// locked flags (`True`/`False`), the grade id, and for grade cells the points as Python prints
/// a float.
pub fn checksum(cell: &Value) -> String {
    let mut m = Md5::new();
    m.update(crate::notebook::source(cell).as_bytes());
    m.update(cell["cell_type"].as_str().unwrap_or("").as_bytes());
    for b in [is_grade(cell), is_solution(cell), is_locked(cell)] {
        m.update(if b { "True" } else { "False" });
    }
    m.update(grade_id(cell).unwrap_or("").as_bytes());
    if is_grade(cell) {
        m.update(python_float(points(cell)).as_bytes());
    }
    hex::encode(m.finalize())
}

/// `str(float(x))` as Python writes it for the values points take (`2.0`, `2.5`, `0.1`).
fn python_float(x: f64) -> String {
    let s = format!("{x:?}");
    if s.contains('e') {
        // Python writes 1e16 as 1e+16 and keeps two exponent digits.
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = e.strip_prefix('-').map_or(("+", e), |d| ("-", d));
        format!("{m}e{sign}{digits:0>2}")
    } else {
        s
    }
}

/// The source with nbgrader's hidden-test regions removed (`ClearHiddenTests`): the lines from
/// one holding `BEGIN HIDDEN TESTS` to one holding `END HIDDEN TESTS`, both included. This is
/// the version of a test cell that students get.
pub fn without_hidden_tests(source: &str) -> String {
    let mut out = Vec::new();
    let mut hidden = false;
    for line in source.split('\n') {
        if line.contains("BEGIN HIDDEN TESTS") {
            hidden = true;
        } else if line.contains("END HIDDEN TESTS") {
            hidden = false;
        } else if !hidden {
            out.push(line);
        }
    }
    out.join("\n")
}

/// One output of a graded cell, as far as scoring looks at it.
pub enum Output<'a> {
    Stream { stderr: bool },
    Result { plain: &'a str },
    Error,
    Other,
}

/// What a grade cell earns (`determine_grade`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Grade {
    /// Graded automatically: these points.
    Auto(f64),
    /// A solution left as it was handed out: 0, without a grader.
    Unanswered,
    /// To be graded by hand.
    Manual,
}

/// The grade of a code grade cell from its outputs, in order: the first error or stderr output
/// gives 0; else the first value that reads as a number gives those points (partial credit;
/// any other value, full points); else full points.
///
/// # Errors
/// A partial credit above the cell's points (nbgrader stops there too).
pub fn grade_from_outputs(outputs: &[Output<'_>], max: f64) -> Result<f64, String> {
    for o in outputs {
        match o {
            Output::Error | Output::Stream { stderr: true, .. } => return Ok(0.0),
            Output::Result { plain } => return partial_credit(plain, max),
            Output::Stream { stderr: false, .. } | Output::Other => {}
        }
    }
    Ok(max)
}

/// `get_partial_grade`: the value as a number of points; full points for a value that is not a
/// number or is negative.
fn partial_credit(text: &str, max: f64) -> Result<f64, String> {
    match python_float_parse(text) {
        Some(g) if g >= 0.0 && g > max => Err(format!("partial credit {g} is more than the cell's {max} points")),
        Some(g) if g >= 0.0 => Ok(g),
        _ => Ok(max),
    }
}

/// Python's `float(text)` for the forms a cell's value takes.
fn python_float_parse(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() || t.contains(|c: char| c.is_whitespace()) {
        return None;
    }
    t.replace('_', "").parse::<f64>().ok().filter(|_| !t.starts_with('_') && !t.ends_with('_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn checksums_equal_nbgraders() {
        // Computed with nbgrader 0.9.6's `nbgrader.utils.compute_checksum` on these cells.
        let test = json!({"cell_type": "code", "source": "assert_eq!(1 + 1, 2);",
            "metadata": {"nbgrader": {"grade": true, "grade_id": "t1", "locked": true, "points": 2, "solution": false}}});
        assert_eq!(checksum(&test), "c3a1614a4a7eed39987c68b9e4cf09df");
        let solution = json!({"cell_type": "code", "source": ["fn f() -> i32 {\n", "    todo!()\n", "}"],
            "metadata": {"nbgrader": {"grade": false, "grade_id": "s1", "locked": false, "solution": true}}});
        assert_eq!(checksum(&solution), "aa6bada027028a4cc4181d18497d1e83");
        let half = json!({"cell_type": "markdown", "source": "answer",
            "metadata": {"nbgrader": {"grade": true, "grade_id": "m", "locked": false, "points": 2.5, "solution": true}}});
        assert_eq!(checksum(&half), "efdb0e9941d4570ba7da1c70c8f47097");
    }

    #[test]
    fn grades_follow_determine_grade() {
        let out = |o: Vec<Output<'static>>| grade_from_outputs(&o, 3.0);
        assert_eq!(out(vec![]), Ok(3.0));
        assert_eq!(out(vec![Output::Stream { stderr: false }]), Ok(3.0));
        assert_eq!(out(vec![Output::Stream { stderr: true }, Output::Result { plain: "1" }]), Ok(0.0));
        assert_eq!(out(vec![Output::Result { plain: "1.5" }, Output::Error]), Ok(1.5));
        assert_eq!(out(vec![Output::Result { plain: "\"text\"" }]), Ok(3.0));
        assert_eq!(out(vec![Output::Result { plain: "-1.0" }]), Ok(3.0));
        assert!(out(vec![Output::Result { plain: "4.0" }]).is_err());
        assert_eq!(out(vec![Output::Error]), Ok(0.0));
    }

    #[test]
    fn locked_and_hidden_follow_nbgrader() {
        let cell = |m: Value| json!({"cell_type": "code", "source": "", "metadata": {"nbgrader": m}});
        assert!(is_locked(&cell(json!({"grade": true, "solution": false}))));
        assert!(!is_locked(&cell(json!({"grade": true, "solution": true, "locked": true}))));
        assert!(is_locked(&cell(json!({"locked": true}))));
        assert!(!is_locked(&json!({"cell_type": "code", "source": "", "metadata": {}})));
        let src = "a\n// BEGIN HIDDEN TESTS\nsecret\n// END HIDDEN TESTS\nb";
        assert_eq!(without_hidden_tests(src), "a\nb");
    }

    #[test]
    fn floats_print_as_python_prints_them() {
        assert_eq!(python_float(2.0), "2.0");
        assert_eq!(python_float(2.5), "2.5");
        assert_eq!(python_float(0.1), "0.1");
        assert_eq!(python_float(1e16), "1e+16");
    }
}
