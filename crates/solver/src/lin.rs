//! Columns, linear expressions and rows of the MILP, kept as plain vectors.
//!
//! good_lp keeps every expression as a hash map and every variable and
//! constraint again for each solve; at a prefecture's size (1.6 million
//! assignment columns) that took most of the memory (11.8 GiB) and much of
//! the time before the first rota. Here a column is its index, an
//! expression a list of terms, and the rows one compressed (CSR) matrix
//! that goes to HiGHS as it is ([`touban_highs_callback::pass_mip`]).

use std::ops::{Add, AddAssign, Mul, Neg, Sub};

/// A column of the model: its index in HiGHS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Var(u32);

impl Var {
    /// The column's index.
    #[must_use]
    pub fn col(self) -> usize {
        self.0 as usize
    }
}

/// `Σ coefficient·column + constant`. Terms may repeat a column until the
/// expression becomes a row ([`Rows::push`] adds them up).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Lin {
    pub terms: Vec<(Var, f64)>,
    pub constant: f64,
}

impl Lin {
    #[must_use]
    pub fn constant(c: f64) -> Self {
        Self {
            terms: Vec::new(),
            constant: c,
        }
    }

    /// `self += k·e`.
    pub fn add_mul(&mut self, k: f64, e: impl Into<Lin>) {
        let e = e.into();
        self.terms
            .extend(e.terms.into_iter().map(|(v, c)| (v, k * c)));
        self.constant += k * e.constant;
    }

    /// The value at `values` (one per column).
    #[must_use]
    pub fn eval(&self, values: &[f64]) -> f64 {
        self.constant
            + self
                .terms
                .iter()
                .map(|(v, c)| c * values.get(v.col()).copied().unwrap_or(0.0))
                .sum::<f64>()
    }

    /// The sum of these columns.
    pub fn sum(vars: impl IntoIterator<Item = Var>) -> Self {
        Self {
            terms: vars.into_iter().map(|v| (v, 1.0)).collect(),
            constant: 0.0,
        }
    }
}

impl From<Var> for Lin {
    fn from(v: Var) -> Self {
        Self {
            terms: vec![(v, 1.0)],
            constant: 0.0,
        }
    }
}

impl From<f64> for Lin {
    fn from(c: f64) -> Self {
        Self::constant(c)
    }
}

impl AddAssign<Lin> for Lin {
    fn add_assign(&mut self, e: Lin) {
        self.terms.extend(e.terms);
        self.constant += e.constant;
    }
}

impl AddAssign<Var> for Lin {
    fn add_assign(&mut self, v: Var) {
        self.terms.push((v, 1.0));
    }
}

impl AddAssign<f64> for Lin {
    fn add_assign(&mut self, c: f64) {
        self.constant += c;
    }
}

impl Add<Lin> for Lin {
    type Output = Lin;
    fn add(mut self, e: Lin) -> Lin {
        self += e;
        self
    }
}

impl Mul<f64> for Lin {
    type Output = Lin;
    fn mul(mut self, k: f64) -> Lin {
        for t in &mut self.terms {
            t.1 *= k;
        }
        self.constant *= k;
        self
    }
}

impl Neg for Lin {
    type Output = Lin;
    fn neg(self) -> Lin {
        self * -1.0
    }
}

impl Sub<f64> for Lin {
    type Output = Lin;
    fn sub(mut self, c: f64) -> Lin {
        self.constant -= c;
        self
    }
}

impl Sub<Lin> for f64 {
    type Output = Lin;
    fn sub(self, e: Lin) -> Lin {
        -e + Lin::constant(self)
    }
}

/// The model's columns: binary (assignments, days worked) or continuous
/// from 0 (slacks).
#[derive(Debug, Default)]
pub struct Columns {
    binary: Vec<bool>,
}

impl Columns {
    fn add(&mut self, binary: bool) -> Var {
        let v = Var(u32::try_from(self.binary.len()).expect("fewer than 2³² columns"));
        self.binary.push(binary);
        v
    }
    pub fn binary(&mut self) -> Var {
        self.add(true)
    }
    /// A column ≥ 0 (unbounded above).
    pub fn slack(&mut self) -> Var {
        self.add(false)
    }
    #[must_use]
    pub fn len(&self) -> usize {
        self.binary.len()
    }
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.binary.is_empty()
    }
    #[must_use]
    pub fn is_binary(&self, v: usize) -> bool {
        self.binary[v]
    }
}

/// Rows `lower ≤ Σ terms ≤ upper`, one after another (CSR).
#[derive(Debug, Default)]
pub struct Rows {
    start: Vec<u32>,
    col: Vec<u32>,
    val: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

impl Rows {
    /// Adds `lower ≤ e ≤ upper` (e's constant moved to the bounds, equal
    /// columns added up, zero terms left out); returns the row's index.
    pub fn push(&mut self, e: Lin, lower: f64, upper: f64) -> usize {
        self.push_led(None, e, lower, upper)
    }

    /// Like [`Rows::push`], with `lead` (column, coefficient) as the row's
    /// first term; `e` must not hold that column.
    pub(crate) fn push_led(
        &mut self,
        lead: Option<(Var, f64)>,
        e: Lin,
        lower: f64,
        upper: f64,
    ) -> usize {
        if self.start.is_empty() {
            self.start.push(0);
        }
        let mut terms = e.terms;
        terms.sort_unstable_by_key(|t| t.0);
        if let Some((v, c)) = lead {
            debug_assert!(terms.iter().all(|t| t.0 != v), "the lead column twice");
            self.col.push(v.0);
            self.val.push(c);
        }
        let mut k = 0;
        while k < terms.len() {
            let v = terms[k].0;
            let mut c = 0.0;
            while k < terms.len() && terms[k].0 == v {
                c += terms[k].1;
                k += 1;
            }
            if c != 0.0 {
                self.col.push(v.0);
                self.val.push(c);
            }
        }
        self.start
            .push(u32::try_from(self.col.len()).expect("fewer than 2³² nonzeros"));
        self.lower.push(lower - e.constant);
        self.upper.push(upper - e.constant);
        self.lower.len() - 1
    }

    /// `e ≤ rhs`.
    pub fn le(&mut self, e: Lin, rhs: f64) -> usize {
        self.push(e, f64::NEG_INFINITY, rhs)
    }

    #[must_use]
    pub fn len(&self) -> usize {
        self.lower.len()
    }
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lower.is_empty()
    }
    #[must_use]
    pub fn nonzeros(&self) -> usize {
        self.col.len()
    }

    /// Row `i`'s terms as (column, coefficient).
    pub fn row(&self, i: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (a, b) = (self.start[i] as usize, self.start[i + 1] as usize);
        self.col[a..b]
            .iter()
            .zip(&self.val[a..b])
            .map(|(&c, &v)| (c as usize, v))
    }

    /// The matrix as HiGHS takes it (row-wise): starts (one more than
    /// there are rows), column indices, coefficients.
    pub(crate) fn csr(&self) -> (&[u32], &[u32], &[f64]) {
        if self.start.is_empty() {
            (&[0], &[], &[])
        } else {
            (&self.start, &self.col, &self.val)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_add_up_equal_columns_and_move_the_constant() {
        let mut cols = Columns::default();
        let (a, b) = (cols.binary(), cols.slack());
        let mut e = Lin::sum([a, b, a]);
        e.add_mul(-2.0, b);
        e += 3.0;
        let mut rows = Rows::default();
        rows.le(e.clone(), 5.0);
        assert_eq!(rows.row(0).collect::<Vec<_>>(), vec![(0, 2.0), (1, -1.0)]);
        assert_eq!((rows.lower[0], rows.upper[0]), (f64::NEG_INFINITY, 2.0));
        assert!((e.eval(&[1.0, 4.0]) - (1.0 + 4.0 + 1.0 - 8.0 + 3.0)).abs() < 1e-12);
        let f = 1.0 - Lin::from(a);
        assert!((f.eval(&[1.0]) - 0.0).abs() < 1e-12);
        let led = rows.push_led(
            Some((b, -1.0)),
            Lin::from(a) + Lin::constant(2.0),
            f64::NEG_INFINITY,
            0.0,
        );
        assert_eq!(rows.row(led).collect::<Vec<_>>(), vec![(1, -1.0), (0, 1.0)]);
        assert!((rows.upper[led] + 2.0).abs() < 1e-12);
        assert!(cols.is_binary(0) && !cols.is_binary(1));
    }
}
