//! Observability: `Instrument` events, `LoopStats` counters, slow-poll detection.

mod common;

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use common::{fail, ms, spin_for, with_watchdog};
use flowloop::runtime::{CommandKind, Instrument, LoopStats};
use flowloop::{EventLoop, TaskError, TaskId, sleep, spawn, yield_now};

/// Records every event as text, naming tasks `t0`, `t1`, ... in spawn order.
#[derive(Clone, Default)]
struct Recorder {
    events: Rc<RefCell<Vec<String>>>,
    names: Rc<RefCell<HashMap<TaskId, String>>>,
    slow: Rc<RefCell<Vec<Duration>>>,
}

impl Recorder {
    fn name(&self, id: TaskId) -> String {
        let mut names = self.names.borrow_mut();
        let n = names.len();
        names.entry(id).or_insert_with(|| format!("t{n}")).clone()
    }

    fn log(&self, s: String) {
        self.events.borrow_mut().push(s);
    }

    fn joined(&self) -> String {
        self.events.borrow().join(", ")
    }
}

impl Instrument for Recorder {
    fn task_spawned(&mut self, task: TaskId) {
        let n = self.name(task);
        self.log(format!("spawned {n}"));
    }
    fn task_polled(&mut self, task: TaskId, _elapsed: Option<Duration>) {
        let n = self.name(task);
        self.log(format!("polled {n}"));
    }
    fn task_completed(&mut self, task: TaskId) {
        let n = self.name(task);
        self.log(format!("completed {n}"));
    }
    fn task_failed(&mut self, task: TaskId, error: &TaskError) {
        let n = self.name(task);
        self.log(format!("failed {n}: {error}"));
    }
    fn task_cancelled(&mut self, task: TaskId) {
        let n = self.name(task);
        self.log(format!("cancelled {n}"));
    }
    fn command_issued(&mut self, task: TaskId, kind: CommandKind) {
        let n = self.name(task);
        self.log(format!("{n} issues {kind:?}"));
    }
    fn command_completed(&mut self, task: TaskId, kind: CommandKind) {
        let n = self.name(task);
        self.log(format!("{n} done {kind:?}"));
    }
    fn slow_poll(&mut self, _task: TaskId, elapsed: Duration) {
        self.slow.borrow_mut().push(elapsed);
    }
}

/// Root spawns a child that sleeps 1 ms and returns; the root joins it.
async fn spawn_sleep_join() -> u32 {
    let h = spawn(async {
        sleep(ms(1)).await;
        1
    })
    .await;
    h.join().await.unwrap()
}

#[test]
fn instrument_sees_every_event_in_order() {
    let events = with_watchdog(|| {
        let rec = Recorder::default();
        let mut lp = EventLoop::builder().instrument(rec.clone()).build().unwrap();
        assert_eq!(lp.run_until_complete(spawn_sleep_join()).unwrap(), 1);
        rec.joined()
    });
    // The child enters the slab during the parent's poll, so it is reported before the
    // parent's `polled` (which is reported when the poll returns). Spawn completes as soon as
    // the loop has queued the child and then the parent.
    let want = [
        "spawned t0",
        "spawned t1",
        "polled t0",
        "t0 issues Spawn",
        "t0 done Spawn",
        "polled t1",
        "t1 issues Sleep",
        "polled t0",
        "t0 issues Join",
        "t1 done Sleep",
        "polled t1",
        "completed t1",
        "t0 done Join",
        "polled t0",
        "completed t0",
    ]
    .join(", ");
    assert_eq!(events, want);
}

#[test]
fn instrument_sees_failures_and_cancellations() {
    let events = with_watchdog(|| {
        let rec = Recorder::default();
        let mut lp = EventLoop::builder().instrument(rec.clone()).build().unwrap();
        lp.run_until_complete(async {
            let bad = spawn(async { fail("kaput") }).await;
            let slow = spawn(sleep(Duration::from_secs(10))).await;
            slow.cancel().await;
            let _ = (bad.join().await, slow.join().await);
        })
        .unwrap();
        rec.events.borrow().clone()
    });
    assert!(
        events.contains(&"failed t1: task panicked: kaput".to_string()),
        "{events:?}"
    );
    assert!(events.contains(&"cancelled t2".to_string()), "{events:?}");
    assert!(events.contains(&"t0 issues Cancel".to_string()), "{events:?}");
    assert!(
        !events.iter().any(|e| e == "t2 done Sleep"),
        "a cancelled timer must not complete: {events:?}"
    );
}

#[test]
fn stats_count_polls_commands_and_timers() {
    let stats = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        lp.run_until_complete(spawn_sleep_join()).unwrap();
        lp.stats()
    });
    assert_eq!(stats.polls, 5, "root: spawn, join, finish; child: sleep, finish");
    assert_eq!(stats.commands_of(CommandKind::Spawn), 1);
    assert_eq!(stats.commands_of(CommandKind::Sleep), 1);
    assert_eq!(stats.commands_of(CommandKind::Join), 1);
    assert_eq!(stats.commands_of(CommandKind::Yield), 0);
    assert_eq!(stats.commands.iter().sum::<u64>(), 3);
    assert_eq!(stats.timers_fired, 1);
    assert_eq!((stats.tasks_spawned, stats.tasks_completed), (2, 2));
    assert_eq!((stats.tasks_failed, stats.tasks_cancelled), (0, 0));
    assert!(stats.os_polls >= 1, "the loop must have waited in the OS for the timer");
    assert_eq!(stats.poll_time, Duration::ZERO, "poll timing is off by default");
    assert_eq!(stats.slow_polls, 0);
}

#[test]
fn stats_accumulate_over_runs() {
    let (one, two) = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        lp.run_until_complete(spawn_sleep_join()).unwrap();
        let one = lp.stats();
        lp.run_until_complete(spawn_sleep_join()).unwrap();
        (one, lp.stats())
    });
    assert_eq!(two.polls, 2 * one.polls);
    assert_eq!(two.tasks_spawned, 2 * one.tasks_spawned);
    assert_eq!(two.commands, one.commands.map(|c| 2 * c));
}

#[test]
fn stats_count_failures_and_yields() {
    let stats = with_watchdog(|| {
        let mut lp = EventLoop::new().unwrap();
        lp.run_until_complete(async {
            for _ in 0..4 {
                yield_now().await;
            }
            let _ = spawn(async { fail("x") }).await.join().await;
        })
        .unwrap();
        lp.stats()
    });
    assert_eq!(stats.commands_of(CommandKind::Yield), 4);
    assert_eq!(stats.tasks_failed, 1);
}

/// A deliberately slow poll (a ~20 ms busy loop) is counted and reported.
#[test]
fn slow_poll_is_detected() {
    let (stats, slow, task_time) = with_watchdog(|| {
        let rec = Recorder::default();
        let mut lp = EventLoop::builder()
            .slow_poll_threshold(ms(5))
            .instrument(rec.clone())
            .build()
            .unwrap();
        let task_time = lp
            .run_until_complete(async {
                let h = spawn(async { spin_for(ms(20)) }).await;
                let t = h.stats().poll_time;
                h.join().await.unwrap();
                t
            })
            .unwrap();
        let slow = rec.slow.borrow().clone();
        (lp.stats(), slow, task_time)
    });
    assert!(stats.slow_polls >= 1, "a 20 ms poll was not counted as slow: {stats:?}");
    assert!(
        slow.iter().any(|d| *d >= ms(20)),
        "instrument saw no slow poll of 20 ms: {slow:?}"
    );
    assert!(stats.poll_time >= ms(20), "{:?}", stats.poll_time);
    assert!(task_time >= ms(20), "per-task poll time {task_time:?}");
}

#[test]
fn quick_polls_are_not_slow() {
    let stats: LoopStats = with_watchdog(|| {
        let mut lp = EventLoop::builder()
            .slow_poll_threshold(Duration::from_secs(1))
            .build()
            .unwrap();
        lp.run_until_complete(spawn_sleep_join()).unwrap();
        lp.stats()
    });
    assert_eq!(stats.slow_polls, 0);
}

#[test]
fn time_polls_measures_poll_time() {
    let stats = with_watchdog(|| {
        let mut lp = EventLoop::builder().time_polls(true).build().unwrap();
        lp.run_until_complete(async { spin_for(ms(3)) }).unwrap();
        lp.stats()
    });
    assert!(stats.poll_time >= ms(3), "{:?}", stats.poll_time);
    assert_eq!(stats.slow_polls, 0, "no threshold was configured");
}

#[test]
fn instrument_sees_yield_complete() {
    let events = with_watchdog(|| {
        let rec = Recorder::default();
        let mut lp = EventLoop::builder().instrument(rec.clone()).build().unwrap();
        lp.run_until_complete(flowloop::yield_now()).unwrap();
        rec.joined()
    });
    assert_eq!(
        events,
        "spawned t0, polled t0, t0 issues Yield, t0 done Yield, polled t0, completed t0"
    );
}
