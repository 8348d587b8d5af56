//! Complementary (secondary) suppression: suppresses further entries until no released total
//! lets a reader work out a suppressed one, by subtraction within a line or by combining lines
//! (audit-privacy-legal.md §2.1 "Secondary suppression", option (a)). The rules and why they
//! suffice are in the module docs; this file is the deterministic algorithm.

use std::collections::VecDeque;

use super::lines::Extended;
use super::reader::Reader;

/// What suppression must guarantee, and what a reader may assume.
#[derive(Debug, Clone, Copy)]
pub(super) struct Protection {
    /// Counts `1..min_cell` are the sensitive range that a reader must not narrow.
    pub min_cell: u64,
    /// The least value a reader may assume for any suppressed entry: 1 when zeros are released
    /// (a suppressed entry is then known not to be 0), 0 when zeros are suppressed too.
    pub floor: u64,
}

impl Protection {
    /// Whether a count is in the range that primary suppression hides.
    fn is_sensitive(self, count: u64) -> bool {
        count < self.min_cell && (count > 0 || self.floor == 0)
    }
}

/// Adds suppressions (never removes any, and never hides a released 0) until:
///
/// 1. no line has exactly one suppressed entry;
/// 2. in every line whose total is released, the suppressed members are together large enough
///    that "total − released members − floor × the other suppressed members" is at least
///    `min_cell − 1` for each of them (so that line alone cannot narrow any below the whole
///    sensitive range);
/// 3. no suppressed entry is a *bridge* of the graph whose vertices are lines and whose edges
///    are suppressed entries, i.e. no combination of lines isolates one suppressed entry;
/// 4. in a 2-D table, a reader who combines every released value cannot narrow a sensitive
///    hidden entry: a cell could still be anything from `floor` to `min_cell − 1`, a total
///    anything from `floor` × its hidden cells to `min_cell − 1`.
///
/// Each round fixes the first failure found, in that order, by suppressing one released
/// non-zero entry, so the loop ends after at most one round per entry. Suppressing only ever
/// widens what a reader must allow, so an entry that passes rule 4 once passes for good.
pub(super) fn complete(ext: &Extended, suppressed: &mut [bool], protection: Protection) {
    let mut settled = vec![false; ext.entries.len()];
    loop {
        let pick = if let Some(line) = exposed_line(ext, suppressed, protection) {
            line_candidate(ext, suppressed, line)
        } else if let Some(bridge) = first_bridge(ext, suppressed) {
            bridge_candidate(ext, suppressed, bridge)
        } else if let Some(entry) = first_narrowed(ext, suppressed, protection, &mut settled) {
            widening_candidate(ext, suppressed, entry)
        } else {
            return;
        };
        match pick {
            Some(entry) => suppressed[entry] = true,
            None => {
                // Unreachable by the arguments in the module docs: each failure has a released
                // non-zero entry that fixes it or moves towards a fix. Should it ever happen,
                // hide every non-zero entry, which satisfies every rule.
                for (hidden, entry) in suppressed.iter_mut().zip(&ext.entries) {
                    *hidden |= entry.count > 0;
                }
                return;
            }
        }
    }
}

/// The first line that fails rule 1 or rule 2.
fn exposed_line(ext: &Extended, suppressed: &[bool], protection: Protection) -> Option<usize> {
    ext.lines.iter().position(|line| {
        let hidden = line.members.iter().filter(|&&m| suppressed[m]).count()
            + usize::from(suppressed[line.total]);
        if hidden == 1 {
            return true;
        }
        if hidden == 0 || suppressed[line.total] {
            return false;
        }
        let hidden_sum: u64 = line
            .members
            .iter()
            .filter(|&&m| suppressed[m])
            .fold(0u64, |acc, &m| acc.saturating_add(ext.entries[m].count));
        let others = u64::try_from(hidden - 1).unwrap_or(u64::MAX);
        let needed = protection
            .min_cell
            .saturating_sub(1)
            .saturating_add(others.saturating_mul(protection.floor));
        hidden_sum < needed
    })
}

/// The entry to suppress in an exposed line: its smallest released non-zero member (ties to
/// the lower entry number, i.e. row-major cell order), or failing that its total. One of them
/// exists: a lone hidden member's line has a released total, and a lone hidden total has a
/// non-zero member (it is not 0, or it would be released as 0).
fn line_candidate(ext: &Extended, suppressed: &[bool], line: usize) -> Option<usize> {
    let line = &ext.lines[line];
    let open = |e: &usize| !suppressed[*e] && ext.entries[*e].count > 0;
    line.members
        .iter()
        .copied()
        .filter(open)
        .min_by_key(|&m| (ext.entries[m].count, m))
        .or_else(|| Some(line.total).filter(open))
}

/// The graph of lines (plus one "ground" vertex for entries in a single line) whose edges are
/// the suppressed entries: `(entry, one line, other line or ground)`.
fn suppressed_edges(ext: &Extended, suppressed: &[bool]) -> Vec<(usize, usize, usize)> {
    let ground = ext.lines.len();
    ext.entries
        .iter()
        .enumerate()
        .filter(|(e, _)| suppressed[*e])
        .filter_map(|(e, entry)| match entry.lines.as_slice() {
            [a] => Some((e, *a, ground)),
            [a, b] => Some((e, *a, *b)),
            _ => None,
        })
        .collect()
}

/// Adjacency lists `(neighbour, edge index)` for `vertices` vertices.
fn adjacency(vertices: usize, edges: &[(usize, usize, usize)]) -> Vec<Vec<(usize, usize)>> {
    let mut adj = vec![Vec::new(); vertices];
    for (k, &(_, a, b)) in edges.iter().enumerate() {
        adj[a].push((b, k));
        adj[b].push((a, k));
    }
    adj
}

/// The lowest-numbered suppressed entry that is a bridge (Tarjan's algorithm, iterative, with
/// parallel edges told apart by edge index).
fn first_bridge(ext: &Extended, suppressed: &[bool]) -> Option<usize> {
    let edges = suppressed_edges(ext, suppressed);
    let vertices = ext.lines.len() + 1;
    let adj = adjacency(vertices, &edges);
    let mut discovered: Vec<Option<usize>> = vec![None; vertices];
    let mut low = vec![0usize; vertices];
    let mut timer = 0;
    let mut bridges = Vec::new();
    for start in 0..vertices {
        if discovered[start].is_some() || adj[start].is_empty() {
            continue;
        }
        discovered[start] = Some(timer);
        low[start] = timer;
        timer += 1;
        // Frames: (vertex, edge it was reached by, next adjacency index).
        let mut stack: Vec<(usize, Option<usize>, usize)> = vec![(start, None, 0)];
        while let Some(&mut (v, via, ref mut next)) = stack.last_mut() {
            if let Some(&(w, k)) = adj[v].get(*next) {
                *next += 1;
                if via == Some(k) {
                    continue;
                }
                match discovered[w] {
                    Some(d) => low[v] = low[v].min(d),
                    None => {
                        discovered[w] = Some(timer);
                        low[w] = timer;
                        timer += 1;
                        stack.push((w, Some(k), 0));
                    }
                }
            } else {
                stack.pop();
                if let (Some(&(u, _, _)), Some(k)) = (stack.last(), via) {
                    low[u] = low[u].min(low[v]);
                    if discovered[u].is_some_and(|du| low[v] > du) {
                        bridges.push(edges[k].0);
                    }
                }
            }
        }
    }
    bridges.into_iter().min()
}

/// The entry to suppress for a bridge: a released non-zero entry joining the two sides the
/// bridge separates, which closes a cycle through it; failing that, one in a line on either
/// side, which grows a side until such an entry appears. One always exists: if every released
/// entry in the lines of one side were 0, the bridge would equal a sum of zeros, yet a hidden
/// entry is not 0 (and under `zeros = "suppress"` no released entry is 0). Preference: a cell
/// over a total, then the smallest count, then the lowest entry number.
fn bridge_candidate(ext: &Extended, suppressed: &[bool], bridge: usize) -> Option<usize> {
    let edges = suppressed_edges(ext, suppressed);
    let ground = ext.lines.len();
    let adj = adjacency(ground + 1, &edges);
    let bridge_edge = edges.iter().position(|&(e, _, _)| e == bridge)?;
    let (_, a, b) = edges[bridge_edge];
    let side_a = reachable(&adj, a, bridge_edge);
    let side_b = reachable(&adj, b, bridge_edge);
    let ends = |e: usize| -> (usize, usize) {
        match ext.entries[e].lines.as_slice() {
            [x, y] => (*x, *y),
            [x] => (*x, ground),
            _ => (ground, ground),
        }
    };
    let crossing = |e: &usize| {
        let (x, y) = ends(*e);
        (side_a[x] && side_b[y]) || (side_b[x] && side_a[y])
    };
    let touching = |e: &usize| {
        let (x, y) = ends(*e);
        side_a[x] || side_a[y] || side_b[x] || side_b[y]
    };
    smallest_open(ext, suppressed, crossing).or_else(|| smallest_open(ext, suppressed, touching))
}

/// The first sensitive hidden entry (rule 4) that a reader of the whole 2-D table can narrow,
/// marking the ones that pass as settled.
fn first_narrowed(
    ext: &Extended,
    suppressed: &[bool],
    protection: Protection,
    settled: &mut [bool],
) -> Option<usize> {
    let reader = Reader::two_d(ext, suppressed, protection.floor)?;
    for (e, entry) in ext.entries.iter().enumerate() {
        if settled[e] || !suppressed[e] || !protection.is_sensitive(entry.count) {
            continue;
        }
        // A total over k hidden cells is at least k × floor whatever else is released.
        let hidden_cells = ext.cells_under(e).iter().filter(|&&i| suppressed[i]).count();
        let least =
            protection.floor.saturating_mul(u64::try_from(hidden_cells).unwrap_or(u64::MAX));
        let most = protection.min_cell.saturating_sub(1).max(least);
        if reader.allows(e, least) && reader.allows(e, most) {
            settled[e] = true;
        } else {
            return Some(e);
        }
    }
    None
}

/// The entry to suppress for a narrowed one: the smallest released non-zero entry in its
/// lines, or failing that in the whole table (cells before totals, then smallest, then lowest
/// entry number). Hiding everything non-zero satisfies rule 4, so one exists while it fails.
fn widening_candidate(ext: &Extended, suppressed: &[bool], narrowed: usize) -> Option<usize> {
    let lines = &ext.entries[narrowed].lines;
    let shares_a_line = |e: &usize| ext.entries[*e].lines.iter().any(|l| lines.contains(l));
    smallest_open(ext, suppressed, shares_a_line)
        .or_else(|| smallest_open(ext, suppressed, |_| true))
}

/// The released non-zero entry satisfying `filter` that is cheapest to hide: a cell before a
/// total, then the smallest count, then the lowest entry number.
fn smallest_open(
    ext: &Extended,
    suppressed: &[bool],
    filter: impl Fn(&usize) -> bool,
) -> Option<usize> {
    (0..ext.entries.len())
        .filter(|&e| !suppressed[e] && ext.entries[e].count > 0)
        .filter(filter)
        .min_by_key(|&e| (ext.entries[e].is_margin(), ext.entries[e].count, e))
}

/// Which vertices `from` reaches without using edge `skip`.
fn reachable(adj: &[Vec<(usize, usize)>], from: usize, skip: usize) -> Vec<bool> {
    let mut seen = vec![false; adj.len()];
    seen[from] = true;
    let mut queue = VecDeque::from([from]);
    while let Some(v) = queue.pop_front() {
        for &(w, k) in &adj[v] {
            if k != skip && !seen[w] {
                seen[w] = true;
                queue.push_back(w);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::disclosure::table::Dimension;

    fn two_d(counts: &[&[u64]]) -> Extended {
        let rows = Dimension::new("r", (0..counts.len()).map(|i| i.to_string())).unwrap();
        let columns = Dimension::new("c", (0..counts[0].len()).map(|i| i.to_string())).unwrap();
        let flat: Vec<u64> = counts.iter().flat_map(|r| r.iter().copied()).collect();
        Extended::build(&[rows, columns], &flat, true).unwrap()
    }

    const HES: Protection = Protection { min_cell: 8, floor: 1 };

    fn primary(ext: &Extended) -> Vec<bool> {
        ext.entries.iter().map(|e| (1..8).contains(&e.count)).collect()
    }

    #[test]
    fn a_lone_suppressed_cell_gets_a_partner() {
        // 3 is alone in row 0 and column 0; the smallest released non-zero cell of row 0 (10)
        // is suppressed, then column 1 needs a partner (20 at (1,1)), and so on until every
        // line has two or none.
        let ext = two_d(&[&[3, 10, 40], &[12, 20, 30], &[50, 60, 70]]);
        let mut s = primary(&ext);
        complete(&ext, &mut s, HES);
        let cells: Vec<bool> = s[..9].to_vec();
        assert_eq!(cells, [true, true, false, true, true, false, false, false, false]);
        assert!(exposed_line(&ext, &s, HES).is_none());
        assert!(first_bridge(&ext, &s).is_none());
    }

    #[test]
    fn a_bridge_between_two_cycles_is_closed() {
        // Suppressed blocks {(0,0),(0,1),(1,0),(1,1)} and {(2,2),(2,3),(3,2),(3,3)} joined by
        // (1,2): every line has 0 or ≥ 2 suppressed, yet rows 0–1 minus columns 0–1 isolate
        // (1,2) exactly.
        let ext =
            two_d(&[&[20, 20, 20, 20], &[20, 20, 20, 20], &[20, 20, 20, 20], &[20, 20, 20, 20]]);
        let mut s = vec![false; ext.entries.len()];
        for (i, j) in [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2), (2, 2), (2, 3), (3, 2), (3, 3)] {
            s[i * 4 + j] = true;
        }
        assert!(exposed_line(&ext, &s, HES).is_none());
        assert_eq!(first_bridge(&ext, &s), Some(6));
        complete(&ext, &mut s, HES);
        assert!(first_bridge(&ext, &s).is_none());
        assert_eq!(s.iter().filter(|&&x| x).count(), 10);
    }

    #[test]
    fn two_small_cells_need_a_third_to_cover_the_range() {
        // Row [1, 1, 50] with total 52: the two 1s alone would show x + y = 2 exactly, so
        // x = y = 1. Rule 2 adds the 50.
        let rows = Dimension::new("r", ["a", "b", "c"]).unwrap();
        let ext = Extended::build(&[rows], &[1, 1, 50], true).unwrap();
        let mut s = primary(&ext);
        complete(&ext, &mut s, HES);
        assert_eq!(s, [true, true, true, false]);
    }

    #[test]
    fn with_nothing_else_to_hide_the_total_goes() {
        // Eight cells of 1: all suppressed, total 8 released would bound each by 1.
        let rows = Dimension::new("r", (0..8).map(|i| i.to_string())).unwrap();
        let ext = Extended::build(&[rows], &[1; 8], true).unwrap();
        let mut s = primary(&ext);
        complete(&ext, &mut s, HES);
        assert!(s.iter().all(|&x| x));
    }

    #[test]
    fn a_reader_of_the_whole_table_is_stopped() {
        // Rules 1–3 hold for this pattern, yet rows and columns together confine B/Feb (7):
        // column Feb minus C/Feb gives A/Feb + B/Feb = 14, and row A caps A/Feb at 7, so
        // B/Feb ≥ 7. Rule 4 finds it and hides more until it could be anything from 1 to 7.
        //            Jan  Feb  Mar  Apr | total
        //   ward A     0  [7]    0  [1] |    8
        //   ward B   [14] [7]    0    0 |   21
        //   ward C     0   20   [1]  [7] |   28
        //   total   [14]  34   [1]    8 |   57
        let ext = two_d(&[&[0, 7, 0, 1], &[14, 7, 0, 0], &[0, 20, 1, 7]]);
        let mut s = vec![false; ext.entries.len()];
        for e in [1, 3, 4, 5, 10, 11, 15, 17] {
            s[e] = true;
        }
        assert!(exposed_line(&ext, &s, HES).is_none());
        assert!(first_bridge(&ext, &s).is_none());
        let mut settled = vec![false; ext.entries.len()];
        assert_eq!(first_narrowed(&ext, &s, HES, &mut settled), Some(5));
        complete(&ext, &mut s, HES);
        let mut settled = vec![false; ext.entries.len()];
        assert_eq!(first_narrowed(&ext, &s, HES, &mut settled), None);
        // Its smallest released line-mate, C/Feb (20), was the first extra cell hidden.
        assert!(s[9]);
    }
}
