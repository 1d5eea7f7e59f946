//! Where things are in the file. TOML spans from the `toml` crate cover only a
//! `[[table]]` header, so we index the source ourselves: every table header
//! with the lines of its body, and within a body the line of each `key =`.

/// One `[table]` or `[[array.of.tables]]` occurrence.
#[derive(Debug, Clone)]
struct Section {
    path: String,
    /// Index among sections with the same path *under the same parent*.
    index: usize,
    /// Index of the enclosing `[[parent]]` occurrence, for nested arrays.
    parent_index: Option<usize>,
    header_line: usize,
    /// Body lines, 1-based, inclusive range [header+1, end].
    end_line: usize,
}

#[derive(Debug)]
pub struct SourceMap<'a> {
    lines: Vec<&'a str>,
    sections: Vec<Section>,
}

/// Identifies an entry of the file: `staff[3]`, `services[1].templates[0]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPath {
    pub path: &'static str,
    pub index: usize,
    pub parent_index: Option<usize>,
}

impl<'a> SourceMap<'a> {
    pub fn new(src: &'a str) -> Self {
        let lines: Vec<&str> = src.lines().collect();
        let mut sections: Vec<Section> = Vec::new();
        let mut in_multiline: Option<&str> = None;
        for (i, raw) in lines.iter().enumerate() {
            let line = raw.trim();
            if let Some(delim) = in_multiline {
                if line.contains(delim) {
                    in_multiline = None;
                }
                continue;
            }
            for delim in ["\"\"\"", "'''"] {
                if line.matches(delim).count() % 2 == 1 {
                    in_multiline = Some(delim);
                }
            }
            let header = if let Some(rest) = line.strip_prefix("[[") {
                rest.split_once("]]").map(|(p, _)| p.trim().to_string())
            } else if let Some(rest) = line.strip_prefix('[') {
                rest.split_once(']').map(|(p, _)| p.trim().to_string())
            } else {
                None
            };
            let Some(path) = header else { continue };
            if let Some(last) = sections.last_mut() {
                last.end_line = i; // line i (0-based) is the header; previous body ends at i (1-based: i)
            }
            let parent_path = path.rsplit_once('.').map(|(p, _)| p.to_string());
            let parent_index = parent_path.as_ref().and_then(|pp| {
                sections
                    .iter()
                    .filter(|s| &s.path == pp)
                    .map(|s| s.index)
                    .next_back()
            });
            let index = sections
                .iter()
                .filter(|s| s.path == path && s.parent_index == parent_index)
                .count();
            sections.push(Section {
                path,
                index,
                parent_index,
                header_line: i + 1,
                end_line: lines.len(),
            });
        }
        Self { lines, sections }
    }

    fn section(&self, e: &EntryPath) -> Option<&Section> {
        self.sections
            .iter()
            .find(|s| s.path == e.path && s.index == e.index && s.parent_index == e.parent_index)
    }

    /// The header line of an entry (1-based), or 1 if it cannot be found
    /// (entries written as inline tables).
    pub fn entry_line(&self, e: &EntryPath) -> usize {
        self.section(e).map_or(1, |s| s.header_line)
    }

    /// The line of `key = …` in an entry's body, else the entry's header line.
    pub fn field_line(&self, e: &EntryPath, key: &str) -> usize {
        let Some(s) = self.section(e) else { return 1 };
        for n in s.header_line..s.end_line.min(self.lines.len()) {
            let l = self.lines[n].trim_start();
            let k = l.split_once('=').map(|(k, _)| k.trim().trim_matches('"'));
            if k == Some(key) {
                return n + 1;
            }
        }
        s.header_line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SRC: &str = "[region]\nid = \"r\"\n\n[[services]]\nid = \"a\"\n\n[[services.templates]]\nid = \"t1\"\nstart = \"08:30\"\n\n[[services.templates]]\nid = \"t2\"\n\n[[services]]\nid = \"b\"\n\n[[services.templates]]\nid = \"t3\"\nend = \"x\"\n";

    #[test]
    fn finds_nested_entries_and_fields() {
        let m = SourceMap::new(SRC);
        let svc1 = EntryPath {
            path: "services",
            index: 1,
            parent_index: None,
        };
        assert_eq!(m.entry_line(&svc1), 14);
        let t = EntryPath {
            path: "services.templates",
            index: 0,
            parent_index: Some(1),
        };
        assert_eq!(m.entry_line(&t), 17);
        assert_eq!(m.field_line(&t, "end"), 19);
        let t2 = EntryPath {
            path: "services.templates",
            index: 1,
            parent_index: Some(0),
        };
        assert_eq!(m.field_line(&t2, "id"), 12);
        let t1 = EntryPath {
            path: "services.templates",
            index: 0,
            parent_index: Some(0),
        };
        assert_eq!(m.field_line(&t1, "start"), 9);
        // Unknown field: falls back to the header.
        assert_eq!(m.field_line(&t1, "nothing"), 7);
        let region = EntryPath {
            path: "region",
            index: 0,
            parent_index: None,
        };
        assert_eq!(m.field_line(&region, "id"), 2);
    }
}
