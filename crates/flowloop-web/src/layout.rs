//! The layered layout: cycles broken by a depth-first search, layers by longest path, order
//! inside a layer by a few barycenter sweeps, then coordinates.

/// Width of a node box.
pub(crate) const NODE_WIDTH: f64 = 200.0;
const GAP_X: f64 = 90.0;
const GAP_Y: f64 = 36.0;
const MARGIN: f64 = 24.0;

/// Box height for a node with `inputs` input ports: title and status rows, one row per port,
/// then value, error and poll-time rows (the page uses the same row positions).
pub(crate) fn node_height(inputs: usize) -> f64 {
    108.0 + 16.0 * inputs as f64
}

/// Where every node goes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Placement {
    pub(crate) xy: Vec<(f64, f64)>,
    pub(crate) width: f64,
    pub(crate) height: f64,
}

/// Lays out `heights.len()` nodes joined by `edges` (producer, consumer).
pub(crate) fn layout(heights: &[f64], edges: &[(usize, usize)]) -> Placement {
    let n = heights.len();
    let forward = acyclic_edges(n, edges);
    let layer = layers(n, &forward);
    let depth = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut rows: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for (v, &l) in layer.iter().enumerate() {
        rows[l].push(v);
    }
    order_rows(&mut rows, &forward, &layer);
    place(heights, &rows)
}

/// The edges with back edges of a depth-first search (in creation order) reversed, and
/// self-loops dropped: a graph without cycles that keeps every connection's neighbours close.
fn acyclic_edges(n: usize, edges: &[(usize, usize)]) -> Vec<(usize, usize)> {
    let mut out_adj: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        if a != b && a < n && b < n {
            out_adj[a].push(b);
        }
    }
    // 0 unvisited, 1 on the stack, 2 done.
    let mut mark = vec![0u8; n];
    let mut result = Vec::new();
    for root in 0..n {
        if mark[root] != 0 {
            continue;
        }
        let mut stack = vec![(root, 0usize)];
        mark[root] = 1;
        while let Some(&mut (v, ref mut i)) = stack.last_mut() {
            if let Some(&w) = out_adj[v].get(*i) {
                *i += 1;
                match mark[w] {
                    0 => {
                        result.push((v, w));
                        mark[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => result.push((w, v)),
                    _ => result.push((v, w)),
                }
            } else {
                mark[v] = 2;
                stack.pop();
            }
        }
    }
    result
}

/// Longest-path layers over an acyclic edge list (Kahn's order).
fn layers(n: usize, edges: &[(usize, usize)]) -> Vec<usize> {
    let mut indeg = vec![0usize; n];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b) in edges {
        indeg[b] += 1;
        succ[a].push(b);
    }
    let mut layer = vec![0usize; n];
    let mut queue: std::collections::VecDeque<usize> = (0..n).filter(|&v| indeg[v] == 0).collect();
    while let Some(v) = queue.pop_front() {
        for &w in &succ[v] {
            layer[w] = layer[w].max(layer[v] + 1);
            indeg[w] -= 1;
            if indeg[w] == 0 {
                queue.push_back(w);
            }
        }
    }
    layer
}

/// Barycenter sweeps: each node moves toward the mean position of its neighbours in the layer
/// before (down sweeps) or after (up sweeps).
fn order_rows(rows: &mut [Vec<usize>], edges: &[(usize, usize)], layer: &[usize]) {
    let n = layer.len();
    let (mut before, mut after) = (vec![Vec::new(); n], vec![Vec::new(); n]);
    for &(a, b) in edges {
        if layer[a] < layer[b] {
            before[b].push(a);
            after[a].push(b);
        }
    }
    let mut pos = vec![0f64; n];
    index_rows(rows, &mut pos);
    for sweep in 0..4 {
        let down = sweep % 2 == 0;
        for l in 0..rows.len() {
            let l = if down { l } else { rows.len() - 1 - l };
            let neighbours = if down { &before } else { &after };
            let mut keyed: Vec<(f64, usize)> = rows[l]
                .iter()
                .map(|&v| (mean_position(&neighbours[v], &pos).unwrap_or(pos[v]), v))
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            rows[l] = keyed.into_iter().map(|(_, v)| v).collect();
            index_rows(rows, &mut pos);
        }
    }
}

fn index_rows(rows: &[Vec<usize>], pos: &mut [f64]) {
    for row in rows {
        for (i, &v) in row.iter().enumerate() {
            pos[v] = i as f64;
        }
    }
}

fn mean_position(neighbours: &[usize], pos: &[f64]) -> Option<f64> {
    (!neighbours.is_empty()).then(|| neighbours.iter().map(|&u| pos[u]).sum::<f64>() / neighbours.len() as f64)
}

/// Coordinates: one column per layer, rows stacked and centred vertically.
fn place(heights: &[f64], rows: &[Vec<usize>]) -> Placement {
    let column_height = |row: &Vec<usize>| row.iter().map(|&v| heights[v] + GAP_Y).sum::<f64>() - GAP_Y;
    let tallest = rows.iter().map(column_height).fold(0.0, f64::max);
    let mut xy = vec![(0.0, 0.0); heights.len()];
    for (l, row) in rows.iter().enumerate() {
        let x = MARGIN + l as f64 * (NODE_WIDTH + GAP_X);
        let mut y = MARGIN + (tallest - column_height(row)) / 2.0;
        for &v in row {
            xy[v] = (x, y);
            y += heights[v] + GAP_Y;
        }
    }
    Placement {
        xy,
        width: 2.0 * MARGIN + (rows.len() as f64 * (NODE_WIDTH + GAP_X) - GAP_X).max(0.0),
        height: 2.0 * MARGIN + tallest.max(0.0) + 40.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_goes_left_to_right_and_a_cycle_still_gets_layers() {
        let p = layout(&[100.0; 3], &[(0, 1), (1, 2)]);
        assert!(p.xy[0].0 < p.xy[1].0 && p.xy[1].0 < p.xy[2].0);
        let c = layout(&[100.0; 2], &[(0, 1), (1, 0), (1, 1)]);
        assert_ne!(c.xy[0].0, c.xy[1].0, "the back edge is reversed, not a layer conflict");
    }

    #[test]
    fn a_crossing_is_undone_by_the_sweeps_and_big_graphs_lay_out_quickly() {
        // 0→3, 1→2: the second layer is reordered to 3 above 2.
        let p = layout(&[100.0; 4], &[(0, 3), (1, 2)]);
        assert!(p.xy[3].1 < p.xy[2].1);
        let edges: Vec<(usize, usize)> = (1..20_000).map(|i| (i / 2, i)).collect();
        let big = layout(&vec![100.0; 20_000], &edges);
        assert_eq!(big.xy.len(), 20_000);
    }

    #[test]
    fn a_fan_out_is_stacked_in_one_column_without_overlap() {
        let p = layout(&[100.0; 4], &[(0, 1), (0, 2), (0, 3)]);
        let mut ys: Vec<f64> = (1..4).map(|i| p.xy[i].1).collect();
        assert!((1..4).all(|i| p.xy[i].0 == p.xy[1].0));
        ys.sort_by(f64::total_cmp);
        assert!(ys.windows(2).all(|w| w[1] - w[0] >= 100.0));
    }
}
