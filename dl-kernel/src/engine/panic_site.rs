//! Where in the cell a panic happened. dl-core's panic hook reports the location in the crate
//! evcxr generated from the cell (`src/lib.rs:LINE:COL`), which holds the cell's lines verbatim
//! among lines of its own: the line the panic names is found among the cell's lines by its text
//! (the same occurrence, when a line repeats). A line that is not in this cell belongs to a
//! function an earlier cell defined; its text is shown.

/// The panic's place: the cell's line and column, or the text of a line of an earlier cell.
#[derive(Debug, PartialEq, Eq)]
pub enum PanicSite {
    Cell { line: usize, column: usize, text: String },
    EarlierCell { text: String },
}

/// Maps `location` (`src/lib.rs:LINE:COL`) through `generated` (evcxr's `src/lib.rs`) to the
/// cell's `code` (as the user wrote it). evcxr may split a line of the cell at its statements,
/// so the generated line is looked for inside the cell's lines.
pub fn locate(location: &str, generated: &str, code: &str) -> Option<PanicSite> {
    let rest = location.strip_prefix("src/lib.rs:")?;
    let (line, column) = rest.split_once(':')?;
    let (line, column): (usize, usize) = (line.parse().ok()?, column.parse().ok()?);
    let lib: Vec<&str> = generated.lines().collect();
    let target = *lib.get(line.checked_sub(1)?)?;
    let key = target.trim();
    if key.is_empty() {
        return None;
    }
    // Which occurrence of this text the panic is at, counted in the user's function (after its
    // header), so that the items of earlier cells, emitted before it, do not count.
    let start = lib.iter().rposition(|l| l.starts_with("pub extern \"C\" fn run_user_code_")).unwrap_or(0);
    let found = if line > start {
        let nth = lib[start..line - 1].iter().filter(|l| l.contains(key)).count();
        code.lines().enumerate().filter(|(_, l)| l.contains(key)).nth(nth)
    } else {
        None
    };
    Some(match found {
        Some((i, text)) => {
            let indent = target.len() - target.trim_start().len();
            let at = text.find(key).unwrap_or(0);
            PanicSite::Cell { line: i + 1, column: at + column.saturating_sub(indent).max(1), text: text.to_string() }
        }
        None => PanicSite::EarlierCell { text: key.to_string() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIB: &str = "fn helper() {\n    let v: Vec<u8> = vec![];\n    v[3];\n}\npub extern \"C\" fn run_user_code_2(\n\
                       let a = 1;\nevcxr_variable_store.put_variable::<i32>(stringify!(a), a);\nlet b = [1][a];\nlet b = [1][a];\n";

    #[test]
    fn a_panic_in_the_cell_is_given_its_cell_line_and_column() {
        let code = "let a = 1;\nlet b = [1][a];\nlet b = [1][a];";
        assert_eq!(
            locate("src/lib.rs:9:9", LIB, code),
            Some(PanicSite::Cell { line: 3, column: 9, text: "let b = [1][a];".into() })
        );
        assert_eq!(
            locate("src/lib.rs:8:9", LIB, code).map(|s| matches!(s, PanicSite::Cell { line: 2, .. })),
            Some(true)
        );
    }

    #[test]
    fn a_line_that_evcxr_split_is_found_inside_the_cells_line() {
        let lib = "pub extern \"C\" fn run_user_code_3(\nlet a = 1;\n  let b = [1][a];\n";
        assert_eq!(
            locate("src/lib.rs:3:11", lib, "let a = 1; let b = [1][a];"),
            Some(PanicSite::Cell { line: 1, column: 20, text: "let a = 1; let b = [1][a];".into() })
        );
    }

    #[test]
    fn a_panic_in_an_earlier_cells_function_shows_its_line() {
        assert_eq!(locate("src/lib.rs:3:5", LIB, "let b = 2;"), Some(PanicSite::EarlierCell { text: "v[3];".into() }));
        assert_eq!(locate("other.rs:1:1", LIB, ""), None);
    }
}
