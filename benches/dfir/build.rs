//! Writes the DFIR programs whose size is a parameter (a 100-operator chain, a width-100
//! diamond) into `$OUT_DIR/dfir_programs.rs`: `dfir_syntax!` takes its operators literally.

use std::fmt::Write as _;

/// Operators in the chain; at 1,000 the macro overflows rustc's stack.
const CHAIN: usize = 100;
/// Parallel nodes in the diamond (and `WIDTH - 1` adders).
const WIDTH: usize = 100;

fn chain() -> String {
    let mut ops = String::new();
    for _ in 0..CHAIN {
        ops.push_str("        -> map(|x: u64| black_box(x + 1))\n");
    }
    format!(
        "/// `values` numbers through a chain of {CHAIN} `map`s; returns (elapsed, sum of outputs).
pub fn dfir_chain(values: u64) -> (Duration, u64) {{
    let out = Rc::new(Cell::new(0u64));
    let sink = Rc::clone(&out);
    let mut df = dfir_syntax! {{
        source_iter(0..values)
{ops}        -> for_each(|x: u64| sink.set(sink.get().wrapping_add(x)));
    }};
    let t = Stopwatch::start();
    df.run_available_sync();
    (t.stop().cpu, out.get())
}}
"
    )
}

fn diamond() -> String {
    let mut ops = String::new();
    for i in 0..WIDTH {
        writeln!(ops, "        src[{i}] -> map(|x: u64| black_box(x + 1)) -> m{i};").expect("write to a String");
        writeln!(ops, "        m{i} = identity();").expect("write to a String");
    }
    // z1 = m0 + m1, z_k = z_{{k-1}} + m_k.
    for k in 1..WIDTH {
        let left = if k == 1 {
            "m0".to_string()
        } else {
            format!("z{}", k - 1)
        };
        writeln!(
            ops,
            "        z{k} = zip() -> map(|(a, b): (u64, u64)| black_box(a + b));\n        {left} -> [0]z{k};\n        m{k} -> [1]z{k};"
        )
        .expect("write to a String");
    }
    let last = WIDTH - 1;
    format!(
        "/// Source -> {WIDTH} parallel `map`s -> {last} adders (`zip` + `map`), fed back into the
/// source through `defer_tick`, for `gens` ticks; returns (elapsed, operator runs, last sum).
pub fn dfir_diamond(gens: u64) -> (Duration, u64, u64) {{
    let last = Rc::new(Cell::new(0u64));
    let seen = Rc::clone(&last);
    let laps = Rc::new(Cell::new(0u64));
    let lap = Rc::clone(&laps);
    let mut df = dfir_syntax! {{
        source_iter([1u64]) -> back;
        back = union() -> map(|x: u64| black_box(x % 1000)) -> src;
        src = tee();
{ops}        z{last} -> inspect(|x: &u64| seen.set(*x))
            -> filter(|_| {{ lap.set(lap.get() + 1); lap.get() < gens }})
            -> defer_tick() -> back;
    }};
    let t = Stopwatch::start();
    df.run_available_sync();
    assert_eq!(laps.get(), gens, \"the diamond ran once per tick\");
    (t.stop().cpu, {runs} * gens, last.get())
}}
",
        runs = 2 * WIDTH
    )
}

fn main() {
    let out = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR for build scripts");
    let text = format!("{}\n{}", chain(), diamond());
    std::fs::write(format!("{out}/dfir_programs.rs"), text).expect("OUT_DIR is writable");
    println!("cargo::rerun-if-changed=build.rs");
}
