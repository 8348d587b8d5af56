//! Tests for disclosure control (issue 4 item 3): no released cell or total is small or
//! unrounded, totals are the protected true totals, and no released total gives a suppressed
//! cell away, by subtraction within a line or by combining lines. Lines and intervals are
//! rebuilt here from the released table, independently of the library's own bookkeeping.

use ReleasedCell::{Suppressed as S, Value as V, Zero as Z};
use fedlink_node::disclosure::{
    AppliedRule, CountKind, CountTable, Dimension, ProtectedTable, ReleasedCell, Rounding,
    SdcRules, ZeroPolicy, protect,
};
use proptest::prelude::*;

/// A table as the tests hold it (the library's `CountTable` deliberately has no `Debug`).
#[derive(Debug, Clone)]
struct Case {
    shape: Vec<usize>,
    counts: Vec<i64>,
    kind: CountKind,
}

impl Case {
    fn exact(shape: &[usize], counts: &[i64]) -> Self {
        Case { shape: shape.to_vec(), counts: counts.to_vec(), kind: CountKind::Exact }
    }

    fn table(&self) -> CountTable {
        let dims = self
            .shape
            .iter()
            .enumerate()
            .map(|(d, &n)| {
                Dimension::new(format!("d{d}"), (0..n).map(|l| format!("L{l}")))
                    .expect("distinct levels")
            })
            .collect();
        CountTable::new(self.kind, dims, self.counts.clone()).expect("a well-formed table")
    }

    fn protect(&self, rules: &SdcRules) -> ProtectedTable {
        protect(&self.table(), rules).expect("valid rules")
    }
}

/// Every released entry with its true (clamped, unrounded) count, and every line: the
/// entries a total sums, and the total.
struct Entries {
    released: Vec<ReleasedCell>,
    truth: Vec<u64>,
    lines: Vec<(Vec<usize>, usize)>,
}

/// Cells first (row-major), then for 2-D tables the row totals and column totals, then the
/// grand total; no totals (and no lines) when margins are not released.
fn entries(case: &Case, p: &ProtectedTable) -> Entries {
    let cells: Vec<u64> = case.counts.iter().map(|&c| c.max(0) as u64).collect();
    let mut released = p.cells().to_vec();
    let mut truth = cells.clone();
    let mut lines = Vec::new();
    let Some(margins) = p.margins() else {
        assert_eq!(released.len(), truth.len());
        return Entries { released, truth, lines };
    };
    let n = cells.len();
    if let [r, c] = case.shape[..] {
        let rows: Vec<usize> = (0..r).map(|i| n + i).collect();
        let columns: Vec<usize> = (0..c).map(|j| n + r + j).collect();
        let total = n + r + c;
        for i in 0..r {
            truth.push((0..c).map(|j| cells[i * c + j]).sum());
            released.push(margins.by_dimension(0)[i]);
            lines.push(((0..c).map(|j| i * c + j).collect(), rows[i]));
        }
        for j in 0..c {
            truth.push((0..r).map(|i| cells[i * c + j]).sum());
            released.push(margins.by_dimension(1)[j]);
            lines.push(((0..r).map(|i| i * c + j).collect(), columns[j]));
        }
        lines.push((rows, total));
        lines.push((columns, total));
    } else {
        assert!(margins.by_dimension(0).is_empty());
        lines.push(((0..n).collect(), n));
    }
    truth.push(cells.iter().sum());
    released.push(margins.total());
    Entries { released, truth, lines }
}

/// The true counts a reader knows a released entry can have: the counts that round to it
/// (and, when non-zero, are at least `min_cell`, since smaller ones are never released).
fn known_interval(cell: ReleasedCell, rules: &SdcRules) -> Option<(i64, i64)> {
    let v = i64::try_from(cell.value()?).expect("test counts fit in i64");
    if v == 0 {
        return Some((0, 0));
    }
    let (lo, hi) = match rules.rounding {
        Rounding::Nearest(b) => {
            let b = b as i64;
            (v - b / 2, v + (b + 1) / 2 - 1)
        }
        Rounding::Midpoint6 => (v - 2, v + 3),
    };
    Some((lo.max(rules.min_cell as i64), hi))
}

/// The least count a reader may assume for a suppressed entry.
fn floor(rules: &SdcRules) -> i64 {
    match rules.zeros {
        ZeroPolicy::Release => 1,
        ZeroPolicy::Suppress => 0,
    }
}

/// Whether a true count falls under primary suppression.
fn is_small(truth: u64, rules: &SdcRules) -> bool {
    (1..rules.min_cell).contains(&truth) || (truth == 0 && rules.zeros == ZeroPolicy::Suppress)
}

/// What a reader knows of entry `k`: its rounding interval, or with `exact` its true count
/// (a reader who has undone the rounding: the strongest one); `None` when suppressed.
fn bounds(e: &Entries, k: usize, rules: &SdcRules, exact: bool) -> Option<(i64, i64)> {
    let interval = known_interval(e.released[k], rules)?;
    Some(if exact { (e.truth[k] as i64, e.truth[k] as i64) } else { interval })
}

/// Every way a reader can bound a suppressed entry from one line: the line's total minus its
/// released members (each within what the reader knows of it), minus at least `floor` for
/// each other suppressed member. Returns `(line, entry, lower, upper)` for every suppressed
/// member of every line whose total is released.
fn line_attacks(e: &Entries, rules: &SdcRules, exact: bool) -> Vec<(usize, usize, i64, i64)> {
    let mut out = Vec::new();
    for (l, (members, total)) in e.lines.iter().enumerate() {
        let Some((t_lo, t_hi)) = bounds(e, *total, rules, exact) else { continue };
        let hidden: Vec<usize> =
            members.iter().copied().filter(|&m| e.released[m].is_suppressed()).collect();
        let (mut lo_sum, mut hi_sum) = (0, 0);
        for &m in members {
            if let Some((lo, hi)) = bounds(e, m, rules, exact) {
                lo_sum += lo;
                hi_sum += hi;
            }
        }
        for &k in &hidden {
            let others = hidden.len() as i64 - 1;
            let upper = t_hi - lo_sum - others * floor(rules);
            let lower = if others > 0 { floor(rules) } else { (t_lo - hi_sum).max(floor(rules)) };
            out.push((l, k, lower, upper));
        }
    }
    out
}

/// The rank of an integer matrix over the rationals (fraction-free elimination).
fn rank(mut m: Vec<Vec<i128>>) -> usize {
    let cols = m.first().map_or(0, Vec::len);
    let mut rank = 0;
    for col in 0..cols {
        let Some(p) = (rank..m.len()).find(|&i| m[i][col] != 0) else { continue };
        m.swap(rank, p);
        let pivot = m[rank].clone();
        for row in m.iter_mut().skip(rank + 1) {
            let (a, b) = (pivot[col], row[col]);
            if b == 0 {
                continue;
            }
            for (x, &p) in row.iter_mut().zip(&pivot) {
                *x = *x * a - p * b;
            }
            let g = row.iter().fold(0i128, |g, &x| gcd(g, x.abs()));
            if g > 1 {
                row.iter_mut().for_each(|x| *x /= g);
            }
        }
        rank += 1;
    }
    rank
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// The suppressed entries a reader can compute exactly from the released values by some
/// linear combination of lines (rounding aside): those whose unit vector lies in the span of
/// the lines' equations restricted to suppressed entries.
fn exactly_determined(e: &Entries) -> Vec<usize> {
    let hidden: Vec<usize> =
        (0..e.released.len()).filter(|&k| e.released[k].is_suppressed()).collect();
    let rows: Vec<Vec<i128>> = e
        .lines
        .iter()
        .map(|(members, total)| {
            hidden
                .iter()
                .map(|k| if k == total { -1 } else { i128::from(members.contains(k)) })
                .collect()
        })
        .collect();
    let base = rank(rows.clone());
    hidden
        .iter()
        .enumerate()
        .filter(|&(i, _)| {
            let mut with = rows.clone();
            with.push((0..hidden.len()).map(|j| i128::from(i == j)).collect());
            rank(with) == base
        })
        .map(|(_, &k)| k)
        .collect()
}

/// A reader of a whole 2-D table, as a circulation: row-totals vertex → row i (row total) →
/// column j (cell) → column-totals vertex (column total) → row-totals vertex (grand total).
/// Every line's equation is flow conservation at one vertex. Written apart from the library's
/// own model (a plain augmenting-path max-flow here) so that it checks it.
struct WholeTableReader {
    vertices: usize,
    /// `(from, to, lower, upper)` per entry, in the order of [`entries`].
    edges: Vec<(usize, usize, i64, i64)>,
}

const BIG: i64 = 1 << 40;

impl WholeTableReader {
    /// For an `r × c` table: released entries are known exactly (the strongest reader),
    /// suppressed ones only to be at least `floor`.
    fn new(e: &Entries, r: usize, c: usize, rules: &SdcRules) -> Self {
        let (rows_v, columns_v) = (r + c, r + c + 1);
        let mut ends = Vec::new();
        ends.extend((0..r * c).map(|i| (i / c, r + i % c)));
        ends.extend((0..r).map(|i| (rows_v, i)));
        ends.extend((0..c).map(|j| (r + j, columns_v)));
        ends.push((columns_v, rows_v));
        let edges = ends
            .into_iter()
            .enumerate()
            .map(|(k, (from, to))| match bounds(e, k, rules, true) {
                Some((lo, hi)) => (from, to, lo, hi),
                None => (from, to, floor(rules), BIG),
            })
            .collect();
        WholeTableReader { vertices: r + c + 2, edges }
    }

    /// Whether entry `k` can be `v` given everything released.
    fn allows(&self, k: usize, v: i64) -> bool {
        let mut edges = self.edges.clone();
        edges[k].2 = v;
        edges[k].3 = v;
        // Lower bounds to vertex balances; then a max-flow from a super source must saturate.
        let (source, sink) = (self.vertices, self.vertices + 1);
        let n = self.vertices + 2;
        let mut cap = vec![vec![0i64; n]; n];
        let mut balance = vec![0i64; self.vertices];
        for &(from, to, lo, hi) in &edges {
            cap[from][to] += hi - lo;
            balance[to] += lo;
            balance[from] -= lo;
        }
        let mut needed = 0;
        for (v, &b) in balance.iter().enumerate() {
            if b > 0 {
                cap[source][v] += b;
                needed += b;
            } else {
                cap[v][sink] -= b;
            }
        }
        // Edmonds–Karp on the dense matrix.
        let mut flow = 0;
        loop {
            let mut parent = vec![usize::MAX; n];
            parent[source] = source;
            let mut queue = std::collections::VecDeque::from([source]);
            while let Some(u) = queue.pop_front() {
                for w in 0..n {
                    if parent[w] == usize::MAX && cap[u][w] > 0 {
                        parent[w] = u;
                        queue.push_back(w);
                    }
                }
            }
            if parent[sink] == usize::MAX {
                return flow == needed;
            }
            let mut push = i64::MAX;
            let mut w = sink;
            while w != source {
                push = push.min(cap[parent[w]][w]);
                w = parent[w];
            }
            let mut w = sink;
            while w != source {
                cap[parent[w]][w] -= push;
                cap[w][parent[w]] += push;
                w = parent[w];
            }
            flow += push;
        }
    }
}

fn count() -> impl Strategy<Value = i64> {
    prop_oneof![4 => 0i64..10, 4 => 0i64..50, 1 => 100i64..100_000]
}

fn case() -> impl Strategy<Value = Case> {
    let shape = prop_oneof![
        2 => (1usize..=8).prop_map(|n| vec![n]),
        3 => (1usize..=6, 1usize..=6).prop_map(|(r, c)| vec![r, c]),
        1 => Just(vec![2usize, 2, 3]),
    ];
    (shape, any::<bool>())
        .prop_flat_map(|(shape, noised)| {
            let n: usize = shape.iter().product();
            let counts = if noised {
                proptest::collection::vec(-6i64..50, n).boxed()
            } else {
                proptest::collection::vec(count(), n).boxed()
            };
            let kind = if noised { CountKind::Noised } else { CountKind::Exact };
            (Just(shape), counts, Just(kind))
        })
        .prop_map(|(shape, counts, kind)| Case { shape, counts, kind })
}

fn rules() -> impl Strategy<Value = SdcRules> {
    let any_rules = (
        prop::sample::select(vec![1u64, 3, 8, 10, 11]),
        prop::sample::select(vec![
            Rounding::Nearest(1),
            Rounding::Nearest(5),
            Rounding::Nearest(10),
            Rounding::Midpoint6,
        ]),
        any::<bool>(),
        prop::sample::select(vec![ZeroPolicy::Release, ZeroPolicy::Suppress]),
    )
        .prop_map(|(min_cell, rounding, release_margins, zeros)| SdcRules {
            min_cell,
            rounding,
            release_margins,
            zeros,
        })
        .prop_filter("rules must validate", |r| r.validate().is_ok());
    prop_oneof![Just(SdcRules::default()), any_rules]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// No released cell or total lies in 1..min_cell−1; every released non-zero count is a
    /// multiple of the base (≡ 3 mod 6 for midpoint 6) and is the rounding of the true,
    /// unrounded count, for totals as much as cells; 0 is released only for a true 0; every
    /// small count is suppressed.
    #[test]
    fn released_values_are_rounded_true_values_outside_the_suppressed_range(
        case in case(),
        rules in rules(),
    ) {
        let p = case.protect(&rules);
        let e = entries(&case, &p);
        for (&cell, &truth) in e.released.iter().zip(&e.truth) {
            match cell {
                V(v) => {
                    prop_assert!(v >= rules.min_cell, "{} shown, min_cell {}", v, rules.min_cell);
                    match rules.rounding {
                        Rounding::Nearest(b) => prop_assert_eq!(v % b, 0),
                        Rounding::Midpoint6 => prop_assert_eq!(v % 6, 3),
                    }
                    prop_assert_eq!(v, rules.rounding.apply(truth));
                }
                Z => {
                    prop_assert_eq!(truth, 0);
                    prop_assert_eq!(rules.zeros, ZeroPolicy::Release);
                }
                S => {}
            }
            if is_small(truth, &rules) {
                prop_assert!(cell.is_suppressed());
            }
        }
    }

    /// After complementary suppression no line (row, column, the row totals, the column
    /// totals; the one line of a 1-D table) has exactly one suppressed entry.
    #[test]
    fn no_line_has_exactly_one_suppressed_entry(case in case(), rules in rules()) {
        let e = entries(&case, &case.protect(&rules));
        for (members, total) in &e.lines {
            let hidden =
                members.iter().chain([total]).filter(|&&m| e.released[m].is_suppressed()).count();
            prop_assert_ne!(hidden, 1);
        }
    }

    /// A margin cannot be used to recover a suppressed cell: for every line with a released
    /// total and every small suppressed member, "total − released members − the other
    /// suppressed members at their least" leaves an interval that still holds the true count
    /// and the whole suppressed range, whether the reader knows the released values to within
    /// their rounding or (`exact`) has undone it. For a 1-D table (and the single line of a
    /// 3-D one) this is everything a reader has.
    #[test]
    fn a_line_total_never_narrows_a_small_cell(
        case in case(),
        rules in rules(),
        exact in any::<bool>(),
    ) {
        let e = entries(&case, &case.protect(&rules));
        for (line, k, lower, upper) in line_attacks(&e, &rules, exact) {
            let truth = e.truth[k] as i64;
            prop_assert!(
                lower <= truth && truth <= upper,
                "line {line}: {truth} outside [{lower}, {upper}]"
            );
            if is_small(e.truth[k], &rules) {
                prop_assert!(
                    lower <= floor(&rules) && upper >= rules.min_cell as i64 - 1,
                    "line {line} bounds entry {k} (true {truth}) to [{lower}, {upper}]"
                );
            }
        }
    }

    /// No combination of released totals determines a suppressed entry exactly (e.g. rows
    /// 1–2 minus columns 1–2 of a 2-D table).
    #[test]
    fn no_combination_of_totals_determines_a_suppressed_entry(case in case(), rules in rules()) {
        let e = entries(&case, &case.protect(&rules));
        prop_assert_eq!(exactly_determined(&e), Vec::<usize>::new());
    }

    /// A reader who combines every released cell and total of a 2-D table, knowing each
    /// exactly, still cannot narrow a small suppressed cell below the whole range (floor to
    /// min_cell − 1), nor a small suppressed total below "floor × its hidden cells" to
    /// min_cell − 1.
    #[test]
    fn a_reader_of_the_whole_table_cannot_narrow_a_small_entry(
        (r, c, counts) in (1usize..=5, 1usize..=5).prop_flat_map(|(r, c)| {
            (Just(r), Just(c), proptest::collection::vec(count(), r * c))
        }),
        rules in rules(),
    ) {
        let case = Case::exact(&[r, c], &counts);
        let p = case.protect(&rules);
        if p.margins().is_none() {
            return Ok(());
        }
        let e = entries(&case, &p);
        let reader = WholeTableReader::new(&e, r, c, &rules);
        let hidden_cells = |k: usize| -> i64 {
            let under: Vec<usize> = if k < r * c {
                vec![k]
            } else if k < r * c + r {
                (0..c).map(|j| (k - r * c) * c + j).collect()
            } else if k < r * c + r + c {
                (0..r).map(|i| i * c + (k - r * c - r)).collect()
            } else {
                (0..r * c).collect()
            };
            under.iter().filter(|&&i| e.released[i].is_suppressed()).count() as i64
        };
        prop_assert!(reader.allows(0, e.truth[0] as i64), "the truth is always possible");
        for k in 0..e.released.len() {
            if !e.released[k].is_suppressed() || !is_small(e.truth[k], &rules) {
                continue;
            }
            let least = floor(&rules) * hidden_cells(k);
            let most = (rules.min_cell as i64 - 1).max(least);
            prop_assert!(
                reader.allows(k, least) && reader.allows(k, most),
                "entry {} (true {}) cannot be both {} and {}", k, e.truth[k], least, most
            );
        }
    }

    /// The same table and rules always give the same release, and the applied rules do not
    /// depend on the counts.
    #[test]
    fn deterministic_and_rules_independent_of_counts(case in case(), rules in rules()) {
        let p = case.protect(&rules);
        prop_assert_eq!(&p, &case.protect(&rules));
        let zeros = Case { counts: vec![0; case.counts.len()], ..case.clone() };
        let other = zeros.protect(&rules);
        prop_assert_eq!(p.applied(), other.applied());
    }
}

/// A ward × month table under the HES/ECDS rules (suppress 1–7, round to 5, totals from
/// unrounded counts, then rounded), worked by hand:
///
/// ```text
///            Jan  Feb  Mar | total
///   ward A     4   12   30 |   46
///   ward B     0    9   21 |   30
///   ward C    16   25   40 |   81
///   total     20   46   91 |  157
/// ```
///
/// Primary: A/Jan (4). Lines are checked rows first, then columns. Row A has one suppressed
/// cell, so its smallest released cell, A/Feb (12), goes too. Column Jan has one, so its
/// smallest released non-zero cell goes: C/Jan (16; B/Jan is 0, never a partner). Row C now
/// has one: C/Feb (25). The hidden cells form the cycle A/Jan–A/Feb–C/Feb–C/Jan; every line
/// has 0 or 2 suppressed cells summing to at least 8. No total is small, so all are released,
/// each rounded from its unrounded sum.
#[test]
fn hes_rules_on_a_worked_table() {
    let case = Case::exact(&[3, 3], &[4, 12, 30, 0, 9, 21, 16, 25, 40]);
    let p = case.protect(&SdcRules::default());
    assert_eq!(p.cells(), &[S, S, V(30), Z, V(10), V(20), S, S, V(40)]);
    let m = p.margins().unwrap();
    assert_eq!(m.by_dimension(0), &[V(45), V(30), V(80)]);
    assert_eq!(m.by_dimension(1), &[V(20), V(45), V(90)]);
    assert_eq!(m.total(), V(155));
    assert_eq!(
        p.applied(),
        &[
            AppliedRule::Suppress { min_cell: 8 },
            AppliedRule::Zeros(ZeroPolicy::Release),
            AppliedRule::RoundNearest { base: 5 },
            AppliedRule::MarginsFromUnrounded,
            AppliedRule::ComplementarySuppression,
        ]
    );
    let shown: Vec<String> = p.cells().iter().map(ToString::to_string).collect();
    assert_eq!(shown, ["[c]", "[c]", "30", "0", "10", "20", "[c]", "[c]", "40"]);
}

/// Totals are rounded from the unrounded sum, never summed from rounded cells: three 12s are
/// shown as 10 each, but their total as round(36) = 35, not 30.
#[test]
fn margins_are_rounded_true_totals() {
    let p = Case::exact(&[3], &[12, 12, 12]).protect(&SdcRules::default());
    assert_eq!(p.cells(), &[V(10), V(10), V(10)]);
    assert_eq!(p.margins().unwrap().total(), V(35));
    let p = Case::exact(&[2, 2], &[12, 12, 12, 12]).protect(&SdcRules::default());
    let m = p.margins().unwrap();
    assert_eq!(m.by_dimension(0), &[V(25), V(25)]);
    assert_eq!(m.by_dimension(1), &[V(25), V(25)]);
    assert_eq!(m.total(), V(50));
}

/// Fails if complementary suppression were switched off: under primary suppression alone the
/// total narrows the hidden 7 to 4–7 with rounding to 5, and gives it away exactly without
/// rounding.
#[test]
fn complementary_suppression_is_needed() {
    let rules = SdcRules::default();
    let unrounded = SdcRules { rounding: Rounding::Nearest(1), ..rules };
    let case = Case::exact(&[3], &[97, 7, 40]);
    let attacks = |rules: &SdcRules, cells: &[ReleasedCell], total: ReleasedCell| {
        let e = Entries {
            released: [cells, &[total]].concat(),
            truth: vec![97, 7, 40, 144],
            lines: vec![(vec![0, 1, 2], 3)],
        };
        line_attacks(&e, rules, false)
    };

    // Primary suppression alone, with the total a reader would see: 95, [c], 40 | 145 gives
    // 143 − 97 − 42 = 4 at least; 97, [c], 40 | 144 gives exactly 7.
    let primary = case.protect(&SdcRules { release_margins: false, ..rules });
    assert_eq!(primary.cells(), &[V(95), S, V(40)]);
    assert_eq!(attacks(&rules, primary.cells(), V(145)), [(0, 1, 4, 16)]);
    let primary = case.protect(&SdcRules { release_margins: false, ..unrounded });
    assert_eq!(primary.cells(), &[V(97), S, V(40)]);
    assert_eq!(attacks(&unrounded, primary.cells(), V(144)), [(0, 1, 7, 7)]);

    // With complementary suppression the smallest released cell (40) is hidden too, and the
    // total only bounds the 7 by 1 and 53 (or 103 unrounded).
    let p = case.protect(&rules);
    assert_eq!(p.cells(), &[V(95), S, S]);
    assert_eq!(p.margins().unwrap().total(), V(145));
    assert_eq!(attacks(&rules, p.cells(), V(145)), [(0, 1, 1, 53), (0, 2, 1, 53)]);
    let p = case.protect(&unrounded);
    assert_eq!(p.cells(), &[V(97), S, S]);
    assert_eq!(attacks(&unrounded, p.cells(), V(144)), [(0, 1, 1, 46), (0, 2, 1, 46)]);
}

/// Midpoint 6 (§2.1, OpenSAFELY): `ceil(x/6)·6 − 3` for x ≠ 0, after suppressing 1–7.
#[test]
fn midpoint6_examples() {
    let rules = SdcRules { rounding: Rounding::Midpoint6, ..SdcRules::default() };
    let case = Case::exact(&[8], &[0, 5, 8, 12, 13, 18, 19, 100]);
    let p = case.protect(&SdcRules { release_margins: false, ..rules });
    assert_eq!(p.cells(), &[Z, S, V(9), V(9), V(15), V(15), V(21), V(99)]);
    // With the total (175 → 177): the lone 5 takes the smallest released cell (8) with it.
    let p = case.protect(&rules);
    assert_eq!(p.cells(), &[Z, S, S, V(9), V(15), V(15), V(21), V(99)]);
    assert_eq!(p.margins().unwrap().total(), V(177));
    assert!(p.applied().contains(&AppliedRule::RoundMidpoint6));
}

/// Zeros are consistent by default: a zero cell is 0, a total is 0 exactly when its cells
/// are, noised counts at or below 0 are 0. Under `zeros = "suppress"` they are hidden like
/// small counts, and protected through the totals like them.
#[test]
fn zeros() {
    let rules = SdcRules::default();
    let case = Case::exact(&[2, 3], &[0, 0, 0, 0, 12, 30]);
    let p = case.protect(&rules);
    assert_eq!(p.cells(), &[Z, Z, Z, Z, V(10), V(30)]);
    let m = p.margins().unwrap();
    assert_eq!(m.by_dimension(0), &[Z, V(40)]);
    assert_eq!(m.by_dimension(1), &[Z, V(10), V(30)]);
    assert_eq!(m.total(), V(40));

    let noised = Case { kind: CountKind::Noised, ..Case::exact(&[4], &[-4, 0, 2, 40]) };
    let p = noised.protect(&rules);
    assert_eq!(p.cells(), &[Z, Z, S, S]);
    assert_eq!(p.margins().unwrap().total(), V(40));
    assert_eq!(p.applied()[0], AppliedRule::ClampNegative);

    let suppress = SdcRules { zeros: ZeroPolicy::Suppress, ..rules };
    let p = Case::exact(&[3], &[0, 20, 30]).protect(&suppress);
    assert_eq!(p.cells(), &[S, S, V(30)]);
    assert_eq!(p.margins().unwrap().total(), V(50));
    let p = Case::exact(&[3], &[0, 0, 0]).protect(&suppress);
    assert_eq!(p.cells(), &[S, S, S]);
    assert_eq!(p.margins().unwrap().total(), S);
}

/// Tables of three dimensions get a grand total only (module docs, "Margins").
#[test]
fn three_d_tables_get_a_grand_total() {
    let case = Case::exact(&[2, 2, 2], &[10, 20, 30, 40, 3, 60, 70, 80]);
    let p = case.protect(&SdcRules::default());
    assert_eq!(p.cells(), &[S, V(20), V(30), V(40), S, V(60), V(70), V(80)]);
    let m = p.margins().unwrap();
    assert_eq!(m.total(), V(315));
    assert!(m.by_dimension(0).is_empty());
    assert_eq!(p.cell(&[1, 0, 0]), Some(S));
}

/// A `GROUP BY` result as the node would have it, released with its rule summary.
#[test]
fn from_a_group_by_to_the_audit_log() {
    let dims = vec![
        Dimension::new("ward", ["E05000001", "E05000002"]).unwrap(),
        Dimension::new("month", ["2025-01", "2025-02"]).unwrap(),
    ];
    let table = CountTable::from_cells(
        CountKind::Exact,
        dims,
        [
            (vec!["E05000001", "2025-01"], 14),
            (vec!["E05000001", "2025-02"], 5),
            (vec!["E05000002", "2025-01"], 22),
            (vec!["E05000002", "2025-02"], 31),
        ],
    )
    .unwrap();
    let p = protect(&table, &SdcRules::default()).unwrap();
    // One small cell in a 2 × 2 table with its totals takes the whole table with it: each row
    // and column needs a second hidden cell.
    assert_eq!(p.cells(), &[S, S, S, S]);
    let m = p.margins().unwrap();
    assert_eq!(m.total(), V(70));
    assert_eq!(
        p.rule_summary(),
        "sdc:suppress<8,zeros=release,round5,margins=unrounded,complementary"
    );
    assert!(p.rules().legend(CountKind::Exact).contains("[c]"));
}

/// Found by the property test with rule 3 (bridges) switched off. Rules 1 and 2 alone leave
/// A/Feb hidden but computable: the grand total minus row B gives rows A and C together (4),
/// column Jan minus B/Jan gives A/Jan and C/Jan together (3), and the rest of rows A and C is
/// A/Feb, so A/Feb = 1. Rule 3 hides B/Jan (30) as well.
///
/// ```text
///            Jan  Feb  Mar | total
///   ward A     1    1    0 |    2
///   ward B    30    1    2 |   33
///   ward C     2    0    0 |    2
///   total     33    2    2 |   37
/// ```
#[test]
fn combining_lines_cannot_isolate_a_hidden_cell() {
    let rules = SdcRules { min_cell: 3, rounding: Rounding::Nearest(1), ..SdcRules::default() };
    let case = Case::exact(&[3, 3], &[1, 1, 0, 30, 1, 2, 2, 0, 0]);
    let p = case.protect(&rules);
    assert_eq!(p.cells(), &[S, S, Z, S, S, S, S, Z, Z]);
    let m = p.margins().unwrap();
    assert_eq!(m.by_dimension(0), &[S, V(33), S]);
    assert_eq!(m.by_dimension(1), &[V(33), S, S]);
    assert_eq!(m.total(), V(37));
    let mut e = entries(&case, &p);
    assert!(exactly_determined(&e).is_empty());
    // Release B/Jan again, as rules 1 and 2 alone would, and A/Feb (entry 1) is determined.
    e.released[3] = V(30);
    assert_eq!(exactly_determined(&e), [1]);
}

/// Rule 3 for a cell that is not small: with rules 1, 2 and 4 alone every small cell keeps its
/// whole range, but the partner A/Mar (8) is hidden yet computable: rows A and C together are
/// the grand total minus row B (16 before rounding), column Feb minus B/Feb gives A/Feb and
/// C/Feb together (8), and the rest of rows A and C is A/Mar. Rule 3 hides B/Feb (10) too,
/// so no hidden count, small or not, can be worked out unrounded.
///
/// ```text
///            Jan  Feb  Mar | total
///   ward A     0    1    8 |    9
///   ward B     6   10    2 |   18
///   ward C     0    7    0 |    7
///   total      6   18   10 |   34
/// ```
#[test]
fn a_hidden_partner_stays_hidden() {
    let case = Case::exact(&[3, 3], &[0, 1, 8, 6, 10, 2, 0, 7, 0]);
    let p = case.protect(&SdcRules::default());
    assert_eq!(p.cells(), &[Z, S, S, S, S, S, Z, S, Z]);
    let m = p.margins().unwrap();
    assert_eq!(m.by_dimension(0), &[S, V(20), S]);
    assert_eq!(m.by_dimension(1), &[S, V(20), S]);
    assert_eq!(m.total(), V(35));
    let mut e = entries(&case, &p);
    assert!(exactly_determined(&e).is_empty());
    e.released[4] = V(10);
    assert_eq!(exactly_determined(&e), [2]);
}
