//! A protected table: what leaves the node. Released cells in the input's layout, released
//! totals, the rules in force and the rules applied. Only [`protect`](super::protect()) makes one.

use super::applied::AppliedRule;
use super::cell::ReleasedCell;
use super::rules::SdcRules;
use super::table::{Dimension, coordinates_of, index_of};

/// A table after disclosure control.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtectedTable {
    /// The input's dimensions.
    pub(super) dimensions: Vec<Dimension>,
    /// One released cell per input cell, row-major.
    pub(super) cells: Vec<ReleasedCell>,
    /// The released totals, when the rules release them.
    pub(super) margins: Option<Margins>,
    /// The rules in force.
    pub(super) rules: SdcRules,
    /// The rules applied, in order.
    pub(super) applied: Vec<AppliedRule>,
}

impl ProtectedTable {
    /// The dimensions, outermost first.
    pub fn dimensions(&self) -> &[Dimension] {
        &self.dimensions
    }

    /// Every released cell, row-major (the last dimension varies fastest).
    pub fn cells(&self) -> &[ReleasedCell] {
        &self.cells
    }

    /// The released cell at the given level positions, one per dimension.
    pub fn cell(&self, coordinates: &[usize]) -> Option<ReleasedCell> {
        index_of(&self.dimensions, coordinates).map(|i| self.cells[i])
    }

    /// Every released cell with its level positions.
    pub fn iter(&self) -> impl Iterator<Item = (Vec<usize>, ReleasedCell)> + '_ {
        self.cells.iter().enumerate().map(|(i, &c)| (coordinates_of(&self.dimensions, i), c))
    }

    /// The released totals, or `None` when the rules do not release totals.
    pub fn margins(&self) -> Option<&Margins> {
        self.margins.as_ref()
    }

    /// The rules in force (for the report's legend: [`SdcRules::legend`]).
    pub fn rules(&self) -> &SdcRules {
        &self.rules
    }

    /// The rules applied, in order, for the answer and the audit log.
    pub fn applied(&self) -> &[AppliedRule] {
        &self.applied
    }

    /// The applied rules' codes joined with `,`, prefixed `sdc:`, for the audit entry's rule
    /// field, e.g. `sdc:suppress<8,zeros=release,round5,margins=unrounded,complementary`.
    pub fn rule_summary(&self) -> String {
        let codes: Vec<String> = self.applied.iter().map(AppliedRule::code).collect();
        format!("sdc:{}", codes.join(","))
    }
}

/// Released totals: computed from unrounded counts, then protected like cells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Margins {
    /// For 2-D tables, `[row totals, column totals]`: entry `[d][l]` totals every cell at
    /// level `l` of dimension `d`. Empty for other tables (module docs, "Margins").
    pub(super) by_dimension: Vec<Vec<ReleasedCell>>,
    /// The grand total.
    pub(super) total: ReleasedCell,
}

impl Margins {
    /// The totals by level of `dimension` (2-D tables only; empty otherwise).
    pub fn by_dimension(&self, dimension: usize) -> &[ReleasedCell] {
        self.by_dimension.get(dimension).map_or(&[], Vec::as_slice)
    }

    /// The grand total.
    pub fn total(&self) -> ReleasedCell {
        self.total
    }
}
