//! Disclosure control at the node: the last step before a table of counts leaves, after DP
//! noise where it applies. Small counts are suppressed, the rest rounded, totals computed from
//! unrounded counts and then protected, and further cells suppressed wherever a released total
//! would give a suppressed one away. The result says which rules were applied (issue 4 item 3).
//!
//! # Layout
//!
//! - [`rules`]: the configured rules (`SdcRules`: threshold, rounding, margins, zeros), as a
//!   policy file holds them.
//! - [`table`]: a table of counts before disclosure control: dimensions, levels, counts.
//! - [`protect`](mod@protect): the algorithm, from a `CountTable` to a `ProtectedTable`.
//! - `lines`: cells and totals as entries, totals with what they sum as lines.
//! - `complementary`: complementary suppression over entries and lines.
//! - `reader`: what a reader of a whole 2-D table can infer, as a circulation.
//! - `flow`: feasibility of a circulation with bounds (max-flow).
//! - [`cell`]: a released cell: a rounded value, 0, or `[c]`.
//! - [`protected`]: the protected table that leaves the node, with its totals.
//! - [`applied`]: the rules applied, for the answer and the audit log.
//! - [`error`]: malformed tables and inconsistent rules.
//!
//! Everything here is pure (no I/O, SQL, clock or randomness), so a released table is a
//! function of the counts and the rules alone, and the tests can check it exhaustively.
//!
//! # The rules, and where they come from
//!
//! The defaults are the rule-based SDC of NHS Digital's HES/ECDS (from Sept 2018) and
//! OpenSAFELY, as summarised in audit-privacy-legal.md §2.1:
//!
//! - **Primary suppression.** Counts 1 to `min_cell − 1` (default 1–7) are suppressed. HES
//!   shows them as `*`; OpenSAFELY redacts "≤7". Totals are suppressed by the same test.
//! - **Rounding.** Every released count is rounded to the nearest 5 (halves up; with base 5
//!   there are no exact halves). A base of 1 means no rounding. Rules whose rounding would
//!   show a released count below `min_cell` are refused ([`SdcRules::validate`]): no
//!   released value then lies in the suppressed range (nearest-5 with `min_cell = 11` would
//!   show 11 as 10) and 0 always means "none".
//! - **Midpoint 6** ([`Rounding::Midpoint6`]). §2.1 defines it as OpenSAFELY's
//!   `ceil(x/6)·6 − 3·[x≠0]`: 0 → 0, 1–6 → 3, 7–12 → 9, 13–18 → 15. It is *not* rounding to
//!   the nearest 5 (the wording suggests so; the source does not): each band of six
//!   maps to its midpoint, so released non-zero values are ≡ 3 (mod 6) rather than multiples
//!   of a base, and zero stays distinct from non-zero without biasing small counts. It is
//!   applied after primary suppression (OpenSAFELY: redact rates based on ≤7, then round),
//!   so with the default threshold the smallest released value is 9.
//! - **Zeros** ([`ZeroPolicy`]). By default a zero is released as 0, consistently: a zero
//!   cell is 0 wherever it appears, a total is 0 exactly when every cell under it is, and a
//!   DP-noised count at or below 0 is shown as 0. Complementary suppression never hides a 0,
//!   so a reader may take every suppressed entry to be at least 1, and the rules below assume
//!   they do.
//!   [`ZeroPolicy::Suppress`] treats zeros as small counts instead (and then a reader may
//!   only assume ≥ 0).
//! - **Negative counts.** Only DP-noised tables ([`CountKind::Noised`]) may hold them; they
//!   are clamped to 0 before anything else. That is post-processing of a DP output, so it
//!   costs no privacy; it biases small cells upwards, which suppression then hides. Exact
//!   tables refuse negative counts.
//!
//! # Margins
//!
//! Totals are summed from the *unrounded, unsuppressed* (clamped) counts and then protected
//! exactly like cells: suppressed when small, otherwise rounded. They are never summed from
//! rounded cells, so a released total may differ from the sum of the released cells it
//! covers; that is the HES approach (§2.1 option (b): "computes totals unrounded and then
//! rounds them", a rule §2.1 still marks "verify" against the live HES page; the OpenSAFELY
//! alternative, totals as sums of rounded cells, is not used).
//! For a noised table the totals inherit the cells' noise; they are not noised separately.
//!
//! A 2-D table gets row totals, column totals and a grand total; a 1-D table gets its grand
//! total. A table of three or more dimensions gets only its grand total: the totals of a cube
//! by each dimension form linked tables whose safe suppression needs linear programming
//! (τ-ARGUS, sdcTable; §2.1 option (a)), which this module does not attempt. Ask for the 2-D
//! marginal table as its own query if it is needed, and note that two releases that overlap
//! are protected separately, not jointly (§2.3).
//!
//! # Complementary suppression
//!
//! With totals released, a single suppressed cell could be recovered by subtraction (§2.1,
//! OpenSAFELY's 21–30 age-band example; §2.1 option (a)). Think of every cell and released
//! total as an *entry*, and of each total with the entries it sums as a *line*: each row with
//! its row total, each column with its column total, the row totals with the grand total,
//! the column totals with the grand total (a 1-D table has one line). `complementary.rs`
//! adds suppressions until four rules hold. "Small" means primary-suppressed: 1 to
//! `min_cell − 1`, and 0 too under [`ZeroPolicy::Suppress`]. A reader is assumed to know
//! that every hidden entry is at least 1 (the *floor*; 0 under `ZeroPolicy::Suppress`),
//! since zeros are shown.
//!
//! 1. **No line has exactly one suppressed entry.** Otherwise it is its total minus the
//!    released entries. The line gets a partner: its smallest released non-zero member (ties
//!    to the first in row-major order), which is at least `min_cell`; failing that, its
//!    total.
//! 2. **One line cannot narrow a hidden member.** Where a line's total is released, a reader
//!    bounds a hidden member by "total − released members − floor × each other hidden member"
//!    from above and by the floor from below. So the `k` hidden members of such a line must
//!    sum to at least `(min_cell − 1) + (k − 1) × floor`, or the line gets another member.
//!    Without this, a row of 1, 1 and 50 with its total would show the two hidden cells
//!    summing to 2, so both are 1.
//! 3. **No combination of lines isolates a hidden entry.** Rows A and C minus columns Jan
//!    and Feb of a 2-D table can cancel every hidden cell of a block and leave the one cell
//!    joining it to the rest. In graph terms (vertices are lines, edges hidden entries) a
//!    hidden entry is determined exactly by the released values if and only if it is a
//!    bridge; a bridge is closed by hiding a released non-zero entry across its two sides (or
//!    failing that, in a line on either side). This covers partners too, not only small
//!    cells: a hidden count that can be worked out is an unrounded release.
//! 4. **A reader of the whole 2-D table cannot narrow a small entry.** Combining every line
//!    and bound can still confine a hidden cell (say to 7–13: at least 7) where no single
//!    line does. A 2-D table with its totals is exactly a circulation (row-totals line → row
//!    → column → column-totals line → back), so "could this hidden entry be v?" is a flow
//!    feasibility question (`reader.rs`, `flow.rs`), and the constraint matrix is totally
//!    unimodular, so the answer is an interval and two questions bound it. Each small hidden
//!    cell must be able to take both the floor and `min_cell − 1`; each small hidden total
//!    both "floor × its hidden cells" and `min_cell − 1`. If not, its smallest released
//!    non-zero line-mate (cells before totals) is hidden, or failing that the smallest
//!    released non-zero entry anywhere. In a 1-D table (and the one line of a larger one)
//!    rule 2 is already this exact check.
//!
//! Rules are checked in that order and fixed one suppression at a time, deterministically,
//! until none fails; every round hides one more entry, so it ends, and hiding every non-zero
//! entry satisfies all four, so a candidate always exists. Hiding only ever widens what a
//! reader must allow, so an entry that passes rule 4 stays passed. A released 0 is never
//! hidden, so "0 means none" holds in every protected table. A total is hidden only when its
//! line has no released non-zero member left: totals are usually what a report needs most,
//! and hiding one only moves the exposure into the line of totals, so it is rarely cheaper.
//! With `release_margins = false` nothing can be subtracted, and none of this is done.
//!
//! Rounding is ignored throughout: rules 1–4 assume the reader knows every released value
//! exactly, so a line counts as exposed even when rounding would blur what it gives away.
//! That is conservative on purpose: rounding error can be narrowed by other releases (§2.3,
//! the j = 0…5 example), and a table released with base 1 (no rounding) gets the same
//! guarantee.
//!
//! What this guarantees, for one table: no hidden entry can be computed exactly from the
//! released values (rules 1 and 3), and no reader of the released values can confine a
//! small hidden count to less than its whole range (rule 2 for one line, rule 4 for all the
//! lines of a 2-D table together). What it does not: tables of three or more dimensions
//! with per-dimension totals (not released; see "Margins"), anything across several
//! releases, and a reader who knows the algorithm and reasons about which cell it would
//! have chosen as a partner. Deterministic rules do not stop a reader who chooses the
//! queries (§2.3): that is DP's job, applied before this module for every requester-shaped
//! query (DESIGN.md "Aggregates and disclosure control"; design-review.md F3).
//!
//! # What the released table says
//!
//! - A suppressed cell shows as `[c]`, whether it was small or hidden to protect another.
//!   Telling the two apart (`<8` for small ones) would tell a reader which hidden cell of a
//!   pair is the small one and narrow it: in a line whose hidden pair sums to 9, knowing that
//!   one is at least 8 pins the other to 1. [`SdcRules::legend`] gives the footnote.
//! - [`ProtectedTable::applied`] lists the rules the table went through. It depends on the
//!   rules and on whether the counts were noised, never on the counts: "complementary
//!   suppression of 2 cells" would reveal how many hidden cells are small, for the same
//!   reason as above. The audit log gets the same list ([`ProtectedTable::rule_summary`]).
//!
//! # Cost
//!
//! Each round scans the lines and finds bridges in time linear in the table; rule 4 runs two
//! max-flows per small hidden entry until it passes. Measured in release builds on tables
//! with 5–40 % small cells: 30 × 12 about 1–8 ms, 40 × 24 about 7–50 ms, 100 × 36 about
//! 0.1–0.7 s (debug builds several times slower).

pub mod applied;
pub mod cell;
mod complementary;
pub mod error;
mod flow;
mod lines;
pub mod protect;
pub mod protected;
mod reader;
pub mod rules;
pub mod table;

pub use applied::{AppliedRule, applied_rules};
pub use cell::ReleasedCell;
pub use error::DisclosureError;
pub use protect::protect;
pub use protected::{Margins, ProtectedTable};
pub use rules::{Rounding, SdcRules, ZeroPolicy};
pub use table::{CountKind, CountTable, Dimension};
