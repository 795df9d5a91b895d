//! The Lua scripts directly: de-duplicated pushes, gaps refused, fenced commits.

mod common;
mod flows;

use common::RedisServer;
use flowloop_redis::protocol::{COMMIT, PUSH};
use flowloop_redis::resp::{Client, Cmd, Reply};
use flowloop_redis::{RedisRun, RunSettings};

#[test]
fn pushes_are_deduplicated_by_sequence_and_refused_after_a_gap() {
    let Some(server) = RedisServer::start("push_dedup") else {
        return;
    };
    let config = server.config();
    flowloop::run(async move {
        let run = RedisRun::start(config.clone(), &flows::echo(64), RunSettings::default())
            .await
            .expect("start");
        let keys = vec![run.keys().meta(), run.keys().stream("in")];
        let mut client = Client::new(config);
        let push = |seq: u64, n: u64| {
            let mut args = vec![b"in".to_vec(), b"d".to_vec(), seq.to_string().into_bytes()];
            args.extend((0..n).map(|i| (seq + i).to_string().into_bytes()));
            args
        };
        let first = client.eval(&PUSH, &keys, &push(1, 3)).await.expect("push 1..3");
        assert_eq!(first.as_int(), Some(3));
        // A retry of the same sequence numbers (a reply lost on the way) adds nothing.
        let again = client.eval(&PUSH, &keys, &push(1, 3)).await.expect("push 1..3 again");
        assert_eq!(again.as_int(), Some(3));
        // Overlapping: 3 is a duplicate, 4 and 5 are new.
        assert_eq!(
            client
                .eval(&PUSH, &keys, &push(3, 3))
                .await
                .expect("push 3..5")
                .as_int(),
            Some(3)
        );
        // An entry field other than `d` (one value) or `b` (a bundle) is refused.
        let mut bad = push(6, 1);
        bad[1] = b"x".to_vec();
        let refused = client.eval(&PUSH, &keys, &bad).await;
        assert!(
            matches!(&refused, Err(e) if e.to_string().contains("field must be d or b")),
            "{refused:?}"
        );
        // A gap (7 after 5) is refused entirely.
        assert_eq!(
            client
                .eval(&PUSH, &keys, &push(7, 2))
                .await
                .expect("push 7..8")
                .as_int(),
            Some(0)
        );
        let len = client
            .call(&Cmd::new("XLEN").arg(run.keys().stream("in")))
            .await
            .expect("XLEN");
        assert_eq!(len.as_int(), Some(5));
        // A commit by a consumer that owns nothing is fenced: nothing written, nothing acked.
        let read = Cmd::new("XREADGROUP")
            .arg("GROUP")
            .arg("echo")
            .arg("real")
            .arg("COUNT")
            .arg("1");
        let read = client
            .call(&read.arg("STREAMS").arg(run.keys().stream("in")).arg(">"))
            .await
            .expect("read");
        let entry_id = first_id(read);
        let mut args: Vec<Vec<u8>> = ["echo", "impostor", "in", &entry_id, &entry_id, "1", "out"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        args.extend([
            entry_id.clone().into_bytes(),
            b"1".to_vec(),
            b"1".to_vec(),
            b"d".to_vec(),
            b"99".to_vec(),
        ]);
        let mut ckeys = keys.clone();
        ckeys.push(run.keys().stream("out"));
        let fenced = client.eval(&COMMIT, &ckeys, &args).await.expect("commit");
        assert_eq!(
            fenced.into_items().iter().map(|r| r.as_int()).collect::<Vec<_>>(),
            [None, Some(0), Some(1)]
        );
        let out = client
            .call(&Cmd::new("XLEN").arg(run.keys().stream("out")))
            .await
            .expect("XLEN out");
        assert_eq!(out.as_int(), Some(0));
        // The owner's commit goes through.
        args[1] = b"real".to_vec();
        let ok = client.eval(&COMMIT, &ckeys, &args).await.expect("commit");
        assert_eq!(ok.into_items()[1].as_int(), Some(1));
        let out = client
            .call(&Cmd::new("XLEN").arg(run.keys().stream("out")))
            .await
            .expect("XLEN out");
        assert_eq!(out.as_int(), Some(1));
    })
    .expect("loop runs");
}

fn first_id(read: Reply) -> String {
    let streams = match read {
        Reply::Map(pairs) => pairs.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        Reply::Array(items) => items
            .into_iter()
            .filter_map(|p| p.into_items().into_iter().nth(1))
            .collect(),
        other => panic!("unexpected XREADGROUP reply {other:?}"),
    };
    let entry = streams
        .into_iter()
        .next()
        .expect("one stream")
        .into_items()
        .into_iter()
        .next()
        .expect("one entry");
    entry.items()[0].as_str().expect("an id").to_string()
}
