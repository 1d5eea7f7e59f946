//! Reading one entry (a TOML table) field by field, so that every wrong field
//! of every entry is reported, not just the first one serde would stop at.

use std::collections::BTreeSet;

use toml::{Table, Value};
use touban_domain::ParseError;

use crate::problem::{Msg, Problem, Problems, msg};
use crate::source::{EntryPath, SourceMap};

/// Shared context while reading one file.
#[derive(Debug)]
pub struct Ctx<'a> {
    pub file: String,
    pub map: SourceMap<'a>,
    pub problems: Problems,
}

impl Ctx<'_> {
    pub fn report(
        &mut self,
        at: &EntryPath,
        entry: &str,
        field: Option<&str>,
        message: impl Into<Msg>,
    ) {
        let Msg { en, ja } = message.into();
        let line = match field {
            Some(f) => self.map.field_line(at, f),
            None => self.map.entry_line(at),
        };
        self.problems.0.push(Problem {
            file: self.file.clone(),
            line,
            entry: entry.to_string(),
            field: field.map(str::to_string),
            message: en,
            message_ja: ja,
        });
    }
}

/// One entry being read. Remembers which keys were read so that unknown
/// (usually misspelt) keys can be reported at the end.
#[derive(Debug)]
pub struct Entry<'t> {
    pub table: &'t Table,
    pub at: EntryPath,
    /// Human name of the entry, refined to `staff "sato-h"` once the id is known.
    pub name: String,
    used: BTreeSet<String>,
}

fn type_name(v: &Value) -> (&'static str, &'static str) {
    match v {
        Value::String(_) => ("a string", "文字列"),
        Value::Integer(_) => ("an integer", "整数"),
        Value::Float(_) => ("a number", "数値"),
        Value::Boolean(_) => ("true/false", "true/false"),
        Value::Datetime(_) => ("a date", "日付"),
        Value::Array(_) => ("a list", "リスト"),
        Value::Table(_) => ("a table", "表"),
    }
}

impl<'t> Entry<'t> {
    pub fn new(table: &'t Table, at: EntryPath, name: String) -> Self {
        Self {
            table,
            at,
            name,
            used: BTreeSet::new(),
        }
    }

    fn get(&mut self, key: &str) -> Option<&'t Value> {
        self.used.insert(key.to_string());
        self.table.get(key)
    }

    pub fn report(&self, ctx: &mut Ctx<'_>, field: Option<&str>, message: impl Into<Msg>) {
        ctx.report(&self.at, &self.name, field, message);
    }

    fn wrong_type(&self, ctx: &mut Ctx<'_>, key: &str, want: (&str, &str), got: &Value) {
        let (got_en, got_ja) = type_name(got);
        self.report(
            ctx,
            Some(key),
            msg(
                format!("expected {}, found {got_en}", want.0),
                format!("{}を書いてください（{got_ja}が書かれています）", want.1),
            ),
        );
    }

    pub fn opt_str(&mut self, ctx: &mut Ctx<'_>, key: &str) -> Option<String> {
        match self.get(key)? {
            Value::String(s) => Some(s.clone()),
            v => {
                self.wrong_type(ctx, key, ("a string", "文字列"), v);
                None
            }
        }
    }

    /// Reports a required field that is not there: `Some(())` when it is.
    pub fn missing(&mut self, ctx: &mut Ctx<'_>, key: &str) -> Option<()> {
        if self.table.contains_key(key) {
            return Some(());
        }
        self.used.insert(key.to_string());
        self.report(
            ctx,
            None,
            msg(
                format!("`{key}` is missing"),
                format!("`{key}` がありません"),
            ),
        );
        None
    }

    pub fn req_str(&mut self, ctx: &mut Ctx<'_>, key: &str) -> Option<String> {
        self.missing(ctx, key)?;
        self.opt_str(ctx, key)
    }

    /// A required string parsed by a domain constructor.
    pub fn req<T>(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<T> {
        let s = self.req_str(ctx, key)?;
        self.check(ctx, key, parse(&s))
    }

    pub fn opt<T>(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<T> {
        let s = self.opt_str(ctx, key)?;
        self.check(ctx, key, parse(&s))
    }

    pub fn check<T>(&self, ctx: &mut Ctx<'_>, key: &str, r: Result<T, ParseError>) -> Option<T> {
        r.map_err(|e| self.report(ctx, Some(key), e)).ok()
    }

    /// Reads the entry's `id` and, once known, names the entry by it
    /// (`staff "sato-h"`) in every later message.
    pub fn id<T: std::fmt::Display>(
        &mut self,
        ctx: &mut Ctx<'_>,
        kind: &str,
        parse: impl FnOnce(&str) -> Result<T, ParseError>,
    ) -> Option<T> {
        let id = self.req(ctx, "id", parse);
        if let Some(id) = &id {
            self.name = format!("{kind} \"{id}\"");
        }
        id
    }

    pub fn opt_bool(&mut self, ctx: &mut Ctx<'_>, key: &str) -> Option<bool> {
        match self.get(key)? {
            Value::Boolean(b) => Some(*b),
            v => {
                self.wrong_type(ctx, key, ("true or false", "true か false"), v);
                None
            }
        }
    }

    pub fn opt_int(&mut self, ctx: &mut Ctx<'_>, key: &str) -> Option<i64> {
        match self.get(key)? {
            Value::Integer(i) => Some(*i),
            v => {
                self.wrong_type(ctx, key, ("a whole number", "整数"), v);
                None
            }
        }
    }

    /// An integer within a range, for counts and limits.
    pub fn opt_int_in(&mut self, ctx: &mut Ctx<'_>, key: &str, lo: i64, hi: i64) -> Option<i64> {
        let v = self.opt_int(ctx, key)?;
        if (lo..=hi).contains(&v) {
            Some(v)
        } else {
            self.report(
                ctx,
                Some(key),
                msg(
                    format!("{v} is outside {lo}..{hi}"),
                    format!("{v} は {lo}〜{hi} の範囲外です"),
                ),
            );
            None
        }
    }

    pub fn opt_float(&mut self, ctx: &mut Ctx<'_>, key: &str) -> Option<f64> {
        match self.get(key)? {
            Value::Float(f) => Some(*f),
            #[allow(clippy::cast_precision_loss)]
            Value::Integer(i) => Some(*i as f64),
            v => {
                self.wrong_type(ctx, key, ("a number", "数値"), v);
                None
            }
        }
    }

    /// A list of strings, each parsed; bad items are reported one by one.
    pub fn str_list<T>(
        &mut self,
        ctx: &mut Ctx<'_>,
        key: &str,
        parse: impl Fn(&str) -> Result<T, ParseError>,
    ) -> Vec<T> {
        let Some(v) = self.get(key) else {
            return Vec::new();
        };
        let Value::Array(items) = v else {
            self.wrong_type(ctx, key, ("a list of strings", "文字列のリスト"), v);
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => match parse(s) {
                    Ok(t) => out.push(t),
                    Err(e) => self.report(
                        ctx,
                        Some(key),
                        Msg::from(e).after(&format!("item {}", i + 1), &format!("{}番目", i + 1)),
                    ),
                },
                other => self.report(
                    ctx,
                    Some(key),
                    msg(
                        format!(
                            "item {}: expected a string, found {}",
                            i + 1,
                            type_name(other).0
                        ),
                        format!(
                            "{}番目：文字列を書いてください（{}が書かれています）",
                            i + 1,
                            type_name(other).1
                        ),
                    ),
                ),
            }
        }
        out
    }

    /// A list of inline tables or `[[key]]` sub-entries.
    pub fn tables(&mut self, ctx: &mut Ctx<'_>, key: &str) -> Vec<&'t Table> {
        let Some(v) = self.get(key) else {
            return Vec::new();
        };
        match v {
            Value::Array(items) => items
                .iter()
                .filter_map(|it| match it {
                    Value::Table(t) => Some(t),
                    other => {
                        self.report(
                            ctx,
                            Some(key),
                            msg(
                                format!("expected tables, found {}", type_name(other).0),
                                format!(
                                    "表を書いてください（{}が書かれています）",
                                    type_name(other).1
                                ),
                            ),
                        );
                        None
                    }
                })
                .collect(),
            other => {
                self.wrong_type(ctx, key, ("a list of tables", "表のリスト"), other);
                Vec::new()
            }
        }
    }

    pub fn opt_value(&mut self, key: &str) -> Option<&'t Value> {
        self.get(key)
    }

    /// Reports keys that were never read, suggesting the closest known one.
    pub fn finish(&self, ctx: &mut Ctx<'_>) {
        for key in self.table.keys() {
            if self.used.contains(key) {
                continue;
            }
            let near = self
                .used
                .iter()
                .map(|k| (edit_distance(k, key), k))
                .filter(|(d, _)| *d <= 2)
                .min()
                .map(|(_, k)| k);
            let hint = near.map(|k| format!(" (did you mean `{k}`?)"));
            let hint_ja = near.map(|k| format!("（`{k}` のことですか？）"));
            self.report(
                ctx,
                Some(key),
                msg(
                    format!("unknown field `{key}`{}", hint.unwrap_or_default()),
                    format!(
                        "`{key}` という項目はありません{}",
                        hint_ja.unwrap_or_default()
                    ),
                ),
            );
        }
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    #[test]
    fn edit_distance() {
        assert_eq!(super::edit_distance("email", "emial"), 2);
        assert_eq!(super::edit_distance("email", "email"), 0);
        assert_eq!(super::edit_distance("", "abc"), 3);
    }
}
