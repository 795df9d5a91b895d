//! The RESP client against a real server: handshake, RESP2 fallback, AUTH, pipelining,
//! reconnects, scripts, bad input.

mod common;
mod flows;

use std::time::Duration;

use common::RedisServer;
use common::proxy::HelloRefusingProxy;
use flowloop_redis::resp::{Client, Cmd, Config, Connection, Protocol, Reply, RespError, Script};

#[test]
fn resp3_and_resp2_connections_answer_the_same() {
    let Some(server) = RedisServer::start("resp3_and_resp2") else {
        return;
    };
    let mut resp2 = server.config();
    resp2.protocol = Protocol::Resp2;
    let resp3 = server.config();
    flowloop::run(async move {
        for config in [resp3, resp2] {
            let mut conn = Connection::connect(&config).await.expect("connect");
            let key = format!("h{:?}", config.protocol);
            conn.call(&Cmd::new("HSET").arg(&key).arg("a").arg("1").arg("b").arg("2"))
                .await
                .expect("HSET");
            let all = conn.call(&Cmd::new("HGETALL").arg(&key)).await.expect("HGETALL");
            let mut pairs: Vec<(String, i64)> = all
                .pairs()
                .into_iter()
                .map(|(k, v)| (k.as_str().unwrap_or_default().to_string(), v.as_int().unwrap_or(-1)))
                .collect();
            pairs.sort();
            assert_eq!(
                pairs,
                [("a".to_string(), 1), ("b".to_string(), 2)],
                "{:?}",
                config.protocol
            );
            assert_eq!(conn.protocol(), config.protocol);
            let missing = conn.call(&Cmd::new("GET").arg("nope")).await.expect("GET");
            assert_eq!(missing, Reply::Nil);
            let err = conn.call(&Cmd::new("INCR").arg(&key)).await.expect("INCR answers");
            assert!(err.error().is_some_and(|e| e.starts_with("WRONGTYPE")), "{err:?}");
            let checked = err.check("INCR").unwrap_err().to_string();
            assert!(checked.contains("INCR") && checked.contains("WRONGTYPE"), "{checked}");
        }
    })
    .expect("loop runs");
}

#[test]
fn a_pipeline_of_thousands_of_commands_keeps_reply_order() {
    let Some(server) = RedisServer::start("pipeline") else {
        return;
    };
    let config = server.config();
    flowloop::run(async move {
        let mut conn = Connection::connect(&config).await.expect("connect");
        let cmds: Vec<Cmd> = (0..5000).map(|i| Cmd::new("INCRBY").arg("counter").int(i)).collect();
        let replies = conn.pipeline(&cmds).await.expect("pipeline");
        assert_eq!(replies.len(), 5000);
        let mut total = 0;
        for (i, r) in replies.iter().enumerate() {
            total += i as i64;
            assert_eq!(r.as_int(), Some(total));
        }
        let big = vec![b'x'; 1 << 20];
        conn.call(&Cmd::new("SET").arg("big").arg(&big)).await.expect("SET big");
        let back = conn.call(&Cmd::new("GET").arg("big")).await.expect("GET big");
        assert_eq!(back, Reply::Bytes(big));
    })
    .expect("loop runs");
}

#[test]
fn auth_with_a_password_and_a_wrong_password() {
    let Some(server) =
        RedisServer::start_with("auth", &["--save", "", "--appendonly", "no", "--requirepass", "s3cret"])
    else {
        return;
    };
    let good = Config::from_url(&format!("redis://:s3cret@127.0.0.1:{}", server.port)).expect("url");
    let bad = Config::from_url(&format!("redis://:wrong@127.0.0.1:{}", server.port)).expect("url");
    let none = server.config();
    let mut good2 = good.clone();
    good2.protocol = Protocol::Resp2;
    flowloop::run(async move {
        for config in [good, good2] {
            let mut conn = Connection::connect(&config).await.expect("authenticated");
            assert_eq!(conn.call(&Cmd::new("PING")).await.expect("PING").as_str(), Some("PONG"));
        }
        let err = Connection::connect(&bad).await.expect_err("wrong password");
        assert!(matches!(err, RespError::Auth { .. }), "{err:?}");
        assert!(err.to_string().contains("refused authentication"), "{err}");
        // Without a password the handshake itself is refused, with the server's reason.
        let err = Connection::connect(&none).await.expect_err("no password");
        assert!(
            matches!(&err, RespError::Auth { message, .. } if message.starts_with("NOAUTH")),
            "{err:?}"
        );
    })
    .expect("loop runs");
}

#[test]
fn bad_urls_are_refused_with_the_reason() {
    for (url, reason) in [
        ("http://x:1", "redis://"),
        ("redis://host:notaport", "port"),
        ("redis://:6379", "host is empty"),
        ("redis://host:6379/db", "database"),
    ] {
        let err = Config::from_url(url).expect_err(url).to_string();
        assert!(err.contains(url) && err.contains(reason), "{url}: {err}");
    }
    let c = Config::from_url("redis://me:pw@example.org:7000/3").expect("valid");
    assert_eq!((c.host.as_str(), c.port, c.db), ("example.org", 7000, 3));
    assert_eq!((c.user.as_deref(), c.password.as_deref()), (Some("me"), Some("pw")));
    assert_eq!(Config::from_url(&c.to_url()).expect("round trip"), c);
    assert_eq!(Config::from_url("redis://localhost").expect("defaults").port, 6379);
}

#[test]
fn the_client_reconnects_after_a_restart_and_reloads_scripts() {
    let Some(mut server) = RedisServer::start("reconnect") else {
        return;
    };
    const SCRIPT: Script = Script {
        name: "double",
        source: "return tonumber(ARGV[1]) * 2",
    };
    let config = server.config();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let (back_tx, back_rx) = std::sync::mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        flowloop::run(async move {
            let mut client = Client::new(config);
            let r = client.eval(&SCRIPT, &[], &[b"21".to_vec()]).await.expect("eval");
            assert_eq!(r.as_int(), Some(42));
            tx.send(()).expect("main listens");
            back_rx.recv().expect("server restarted");
            // The first call sees the dropped connection; eval reconnects and reloads the script.
            let r = client
                .eval(&SCRIPT, &[], &[b"5".to_vec()])
                .await
                .expect("eval after restart");
            assert_eq!(r.as_int(), Some(10));
            assert!(client.reconnects() >= 1);
        })
        .expect("loop runs")
    });
    rx.recv().expect("first eval done");
    server.restart();
    back_tx.send(()).expect("thread listens");
    t.join().expect("client thread");
}

#[test]
fn reconnecting_gives_up_after_the_deadline() {
    // A socket bound to a port but not listening: connects to it are refused, and no other
    // test can take the port while the socket lives.
    let held = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    held.bind(&std::net::SocketAddr::from(([127, 0, 0, 1], 0)).into())
        .expect("bind 127.0.0.1:0");
    let port = held
        .local_addr()
        .expect("addr")
        .as_socket()
        .expect("an IP address")
        .port();
    let mut config = Config::local(port);
    config.reconnect_deadline = Duration::from_millis(100);
    let err = flowloop::run(async move { Client::new(config).call(&Cmd::new("PING")).await }).expect("loop runs");
    let err = err.expect_err("no server");
    assert!(
        matches!(err, RespError::GaveUp { attempts, .. } if attempts >= 2),
        "{err:?}"
    );
    assert!(err.to_string().contains(&port.to_string()), "{err}");
}

#[test]
fn a_server_refusing_hello_is_spoken_to_in_resp2_with_auth() {
    let Some(server) = RedisServer::start_with(
        "resp2_fallback",
        &["--save", "", "--appendonly", "no", "--requirepass", "s3cret"],
    ) else {
        return;
    };
    let proxy = HelloRefusingProxy::start(server.port);
    let url = |auth: &str| format!("redis://{auth}@127.0.0.1:{}", proxy.port);
    let password_only = Config::from_url(&url(":s3cret")).expect("url");
    let with_user = Config::from_url(&url("default:s3cret")).expect("url");
    let wrong = Config::from_url(&url(":wrong")).expect("url");
    let hellos = flowloop::run(async move {
        for config in [password_only, with_user] {
            let mut conn = Connection::connect(&config)
                .await
                .expect("falls back to RESP2 and authenticates");
            assert_eq!(conn.protocol(), Protocol::Resp2);
            conn.call(&Cmd::new("HSET").arg("h").arg("k").arg("v"))
                .await
                .expect("HSET");
            let pairs = conn.call(&Cmd::new("HGETALL").arg("h")).await.expect("HGETALL").pairs();
            assert_eq!(pairs, [(Reply::Bytes(b"k".to_vec()), Reply::Bytes(b"v".to_vec()))]);
        }
        // The refused HELLO quotes `AUTH`; the failure must come from AUTH itself.
        let err = Connection::connect(&wrong).await.expect_err("wrong password");
        assert!(
            matches!(&err, RespError::Auth { message, .. } if message.starts_with("WRONGPASS")),
            "{err:?}"
        );
        proxy.hellos()
    })
    .expect("loop runs");
    assert_eq!(hellos, 3, "every handshake tried HELLO 3 first");
}

#[test]
fn a_flow_runs_on_redis_through_a_server_that_only_speaks_resp2() {
    let Some(server) = RedisServer::start("resp2_flow") else {
        return;
    };
    let proxy = HelloRefusingProxy::start(server.port);
    let config = Config::local(proxy.port);
    let flow = flows::word_count();
    let lines = ["a b a", "c a b"];
    let inputs = flowloop_redis::FlowInputs::new()
        .feed("lines", &lines)
        .expect("serialize");
    let provided = flowloop_redis::Provided::new().with(flows::Delay(Duration::ZERO));
    let outputs = flowloop::run(async move { common::run_on_redis(config, &flow, 2, inputs, provided).await })
        .expect("loop runs");
    let counts: Vec<(String, u64)> = outputs.get("counts").expect("counts");
    assert_eq!(
        counts,
        [("a".to_string(), 3), ("b".to_string(), 2), ("c".to_string(), 1)]
    );
    assert!(
        proxy.hellos() >= 4,
        "workers and the run all connected through the proxy"
    );
}
