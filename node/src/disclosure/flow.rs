//! Whether a circulation with lower and upper bounds on its edges exists: the standard
//! reduction to one maximum flow (Dinic's algorithm). The 2-D reader model in `reader.rs` asks
//! it "can the released values and these hidden values hold together?".

use std::collections::VecDeque;

/// An edge whose flow must lie in `lower..=upper`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bounded {
    /// Tail vertex.
    pub from: usize,
    /// Head vertex.
    pub to: usize,
    /// Least flow.
    pub lower: i128,
    /// Greatest flow.
    pub upper: i128,
}

/// Whether flows within the bounds exist that conserve flow at every one of `vertices`.
pub(super) fn feasible(vertices: usize, edges: &[Bounded]) -> bool {
    // Move each lower bound into the vertices' balance, then ask whether a flow from a super
    // source to a super sink can restore every balance.
    let (source, sink) = (vertices, vertices + 1);
    let mut net = Network::new(vertices + 2);
    let mut balance = vec![0i128; vertices];
    for e in edges {
        if e.lower > e.upper {
            return false;
        }
        net.add(e.from, e.to, e.upper - e.lower);
        balance[e.to] += e.lower;
        balance[e.from] -= e.lower;
    }
    let mut needed = 0;
    for (v, &b) in balance.iter().enumerate() {
        if b > 0 {
            net.add(source, v, b);
            needed += b;
        } else if b < 0 {
            net.add(v, sink, -b);
        }
    }
    net.max_flow(source, sink) == needed
}

/// A residual network: edge `2k` and its reverse `2k + 1`.
struct Network {
    adjacent: Vec<Vec<usize>>,
    head: Vec<usize>,
    capacity: Vec<i128>,
}

impl Network {
    fn new(vertices: usize) -> Self {
        Self { adjacent: vec![Vec::new(); vertices], head: Vec::new(), capacity: Vec::new() }
    }

    fn add(&mut self, from: usize, to: usize, capacity: i128) {
        self.adjacent[from].push(self.head.len());
        self.head.push(to);
        self.capacity.push(capacity);
        self.adjacent[to].push(self.head.len());
        self.head.push(from);
        self.capacity.push(0);
    }

    fn max_flow(&mut self, source: usize, sink: usize) -> i128 {
        let mut total = 0;
        while let Some(level) = self.levels(source, sink) {
            let mut next = vec![0usize; self.adjacent.len()];
            loop {
                let pushed = self.augment(source, sink, i128::MAX, &level, &mut next);
                if pushed == 0 {
                    break;
                }
                total += pushed;
            }
        }
        total
    }

    /// Breadth-first distances from `source` over edges with capacity left, if `sink` is
    /// reachable.
    fn levels(&self, source: usize, sink: usize) -> Option<Vec<usize>> {
        let mut level = vec![usize::MAX; self.adjacent.len()];
        level[source] = 0;
        let mut queue = VecDeque::from([source]);
        while let Some(v) = queue.pop_front() {
            for &e in &self.adjacent[v] {
                let w = self.head[e];
                if self.capacity[e] > 0 && level[w] == usize::MAX {
                    level[w] = level[v] + 1;
                    queue.push_back(w);
                }
            }
        }
        (level[sink] != usize::MAX).then_some(level)
    }

    /// Pushes flow along one shortest path (depth is at most the number of vertices).
    fn augment(
        &mut self,
        v: usize,
        sink: usize,
        limit: i128,
        level: &[usize],
        next: &mut [usize],
    ) -> i128 {
        if v == sink {
            return limit;
        }
        while next[v] < self.adjacent[v].len() {
            let e = self.adjacent[v][next[v]];
            let w = self.head[e];
            if self.capacity[e] > 0 && level[w] == level[v] + 1 {
                let pushed = self.augment(w, sink, limit.min(self.capacity[e]), level, next);
                if pushed > 0 {
                    self.capacity[e] -= pushed;
                    self.capacity[e ^ 1] += pushed;
                    return pushed;
                }
            }
            next[v] += 1;
        }
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(from: usize, to: usize, lower: i128, upper: i128) -> Bounded {
        Bounded { from, to, lower, upper }
    }

    #[test]
    fn a_cycle_needs_one_common_flow() {
        // 0 → 1 → 2 → 0: every edge carries the same flow.
        let cycle = |a: (i128, i128), b: (i128, i128), c: (i128, i128)| {
            feasible(3, &[edge(0, 1, a.0, a.1), edge(1, 2, b.0, b.1), edge(2, 0, c.0, c.1)])
        };
        assert!(cycle((3, 5), (4, 9), (0, 4)));
        assert!(!cycle((3, 5), (6, 9), (0, 9)));
        assert!(!cycle((5, 3), (0, 9), (0, 9)));
    }

    #[test]
    fn splitting_flow_between_two_paths() {
        // 0 → 1 and 0 → 2 both into 3, and 3 → 0 carries exactly 10.
        let edges = |x: (i128, i128)| {
            [
                edge(0, 1, x.0, x.1),
                edge(0, 2, 0, 4),
                edge(1, 3, 0, 100),
                edge(2, 3, 0, 100),
                edge(3, 0, 10, 10),
            ]
        };
        assert!(feasible(4, &edges((6, 6))));
        assert!(!feasible(4, &edges((5, 5))));
    }
}
