//! A pipeline of named-argument steps: an order is parsed, priced and checked concurrently,
//! then summarised; one bad order shows the error naming the step, another a dispatch key
//! nobody registered.
//!
//! `cargo run -p flowloop-graph --example pipeline`

use std::time::Duration;

use flowloop_graph::pipeline::{Dispatch, Mapper, Pipeline, PipelineKind, Step, Visibility};
use flowloop_graph::{Graph, Map, Registry, Shelf, Value, kind, par, seq};
use serde::{Deserialize, Serialize};

/// Splits `"3 x 2.50"` into a quantity and a unit price.
#[kind(name = "shop.parse", outputs("quantity", "price"))]
async fn parse(line: String) -> Result<(i64, f64), String> {
    let (q, p) = line
        .split_once(" x ")
        .ok_or(format!("`{line}` is not `<quantity> x <price>`"))?;
    let q = q.trim().parse::<i64>().map_err(|e| format!("quantity `{q}`: {e}"))?;
    let p = p.trim().parse::<f64>().map_err(|e| format!("price `{p}`: {e}"))?;
    Ok((q, p))
}

/// A blocking "stock lookup" (a plain fn: it runs on the offload pool).
#[kind(name = "shop.stock")]
fn stock(quantity: i64) -> bool {
    std::thread::sleep(Duration::from_millis(2));
    quantity <= 10
}

#[derive(Deserialize)]
struct Priced {
    quantity: i64,
    price: f64,
}

#[derive(Serialize)]
struct Subtotal {
    subtotal: f64,
}

#[derive(Deserialize)]
struct Summary {
    subtotal: f64,
    in_stock: bool,
    shipping: f64,
}

fn pipeline() -> Result<Pipeline, Box<dyn std::error::Error>> {
    let price = Step::async_fn("price", |p: Priced| async move {
        Ok::<_, String>(Subtotal {
            subtotal: p.quantity as f64 * p.price,
        })
    });
    let shipping = Dispatch::on("country")
        .case(
            "FR",
            Step::sync_fn("domestic", |_: Map| Ok::<_, String>(5.0)).returns(["shipping"]),
        )
        .case(
            "DE",
            Step::sync_fn("eu", |_: Map| Ok::<_, String>(9.0)).returns(["shipping"]),
        )
        .named("shipping");
    let summary = Step::sync_fn("summary", |s: Summary| {
        if !s.in_stock {
            return Err("not enough stock".to_string());
        }
        Ok(Map::from_iter([("total", s.subtotal + s.shipping)]))
    });
    let order = seq![
        parse_kind(),
        par![
            price,
            Step::kind(stock_kind()).map(Mapper::new().returns(["in_stock"])),
            shipping
        ]
        .visibility(Visibility::None),
        summary,
    ]
    .visibility(Visibility::Initial)
    .named("order");
    Ok(Pipeline::new(order)?)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let p = pipeline()?;
    // `price` returns a serde struct, whose fields are known only at run time: so `subtotal`
    // is listed among the arguments too (the graph kind below keeps only the real ones).
    let args: Vec<String> = p.inputs().into_iter().map(|(n, _)| n).collect();
    println!("the pipeline reads: {}", args.join(", "));
    for (line, country) in [
        ("3 x 2.50", "FR"),
        ("2 x 10", "DE"),
        ("three x 2", "FR"),
        ("1 x 1", "US"),
    ] {
        let order = Map::from_iter([("line", line), ("country", country)]);
        match flowloop::run(p.run(order))? {
            Ok(report) => println!("{line:>10} to {country}: {}", report.outputs),
            Err(e) => println!("{line:>10} to {country}: error: {e}"),
        }
    }

    // The same pipeline as a node kind of a graph.
    let mut reg = Registry::with_std();
    reg.register(
        Shelf::new("shop", "Shop").with(
            PipelineKind::new("shop.order", p)
                .inputs(["line", "country"])
                .outputs(["total"]),
        ),
    )?;
    let mut g = Graph::new(reg);
    g.add("shop.order", Some("order"))?;
    g.set_constant("order", "line", Value::str("4 x 1.25"))?;
    g.set_constant("order", "country", Value::str("DE"))?;
    g.add("math.mul", Some("with_vat"))?;
    g.connect("order", "total", "with_vat", "a")?;
    g.set_constant("with_vat", "b", Value::Float(1.2))?;
    let mut run = g.batch()?;
    run.run()?;
    println!(
        "graph: total with VAT = {}",
        run.value("with_vat", "out").unwrap_or_default()
    );
    Ok(())
}
