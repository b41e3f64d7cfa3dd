//! Delivering events in order per resource: the part of webhook delivery that does not
//! depend on where events come from or go to (the tenants' endpoints, the operator's).
//!
//! Events are split into lanes, one per resource (a user; a group with its membership
//! changes; a directory). A lane is sent one event at a time, in order, and stops at the
//! first event the endpoint refuses: that event and the rest of its lane are held back,
//! while the other lanes go on. Lanes run concurrently, at most `concurrency` at once, and
//! lanes that carry a deactivation or deletion start first.

use std::future::Future;

use chrono::{DateTime, Utc};
use futures_util::StreamExt;

use crate::Effects;

/// An event waiting in a lane, with the failed attempts already made at it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Queued<E> {
    pub event: E,
    pub attempts: i32,
}

/// What an endpoint said to one attempt: its HTTP status, or why there was none.
pub(crate) type Answer = Result<u16, String>;

/// Whether an attempt delivered the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// 2xx.
    Delivered,
    /// Refused; tried again later, and the rest of its lane waits.
    Failed,
    /// Refused for the last time: given up on (a dead letter), and its lane goes on.
    Dead,
}

/// One attempt made.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Sent<E> {
    pub event: E,
    /// 1 for the first attempt at this event.
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub verdict: Verdict,
    pub status_code: Option<i32>,
    pub error: Option<String>,
}

/// What became of one lane.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LaneReport<E> {
    pub sent: Vec<Sent<E>>,
    /// The events after a failed one, not tried.
    pub waiting: Vec<Queued<E>>,
}

/// Splits `events` (in feed order) into lanes by `lane_of`, each in feed order; lanes
/// holding an `urgent` event first, otherwise in the order of their first event.
pub(crate) fn into_lanes<E>(
    events: Vec<Queued<E>>,
    lane_of: impl Fn(&E) -> String,
    urgent: impl Fn(&E) -> bool,
) -> Vec<Vec<Queued<E>>> {
    let mut keys: Vec<String> = Vec::new();
    let mut lanes: Vec<Vec<Queued<E>>> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for queued in events {
        let key = lane_of(&queued.event);
        let at = *index.entry(key.clone()).or_insert_with(|| {
            keys.push(key);
            lanes.push(Vec::new());
            lanes.len() - 1
        });
        lanes[at].push(queued);
    }
    // Stable: among urgent lanes and among the others, feed order stays.
    lanes.sort_by_key(|lane| !lane.iter().any(|queued| urgent(&queued.event)));
    lanes
}

/// Sends every lane, at most `concurrency` lanes at once, each in order until its first
/// failure. `send` makes one attempt (numbered from 1); an attempt that fails and reaches
/// `max_attempts` is given up on.
pub(crate) async fn run_lanes<E, F, Fut>(
    lanes: Vec<Vec<Queued<E>>>,
    concurrency: usize,
    max_attempts: i32,
    effects: &Effects,
    send: F,
) -> Vec<LaneReport<E>>
where
    F: Fn(&E, i32) -> Fut,
    Fut: Future<Output = Answer>,
{
    let send = &send;
    futures_util::stream::iter(lanes)
        .map(|lane| async move {
            let mut report = LaneReport { sent: Vec::new(), waiting: Vec::new() };
            let mut events = lane.into_iter();
            for queued in events.by_ref() {
                let attempt = queued.attempts + 1;
                let at = effects.now();
                let answer = send(&queued.event, attempt).await;
                let (verdict, status_code, error) = judge(answer, attempt, max_attempts);
                report.sent.push(Sent { event: queued.event, attempt, at, verdict, status_code, error });
                if verdict == Verdict::Failed {
                    break;
                }
            }
            report.waiting.extend(events);
            report
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await
}

/// The verdict on an answer to the `attempt`-th try, with the status and error to log.
pub(crate) fn judge(answer: Answer, attempt: i32, max_attempts: i32) -> (Verdict, Option<i32>, Option<String>) {
    match answer {
        Ok(status) if (200..300).contains(&status) => (Verdict::Delivered, Some(i32::from(status)), None),
        answer => {
            let verdict = if attempt >= max_attempts { Verdict::Dead } else { Verdict::Failed };
            match answer {
                Ok(status) => (verdict, Some(i32::from(status)), Some(format!("the endpoint answered {status}"))),
                Err(error) => (verdict, None, Some(error)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    fn queued(events: &[(&str, u32)]) -> Vec<Queued<(String, u32)>> {
        events.iter().map(|(key, n)| Queued { event: ((*key).to_owned(), *n), attempts: 0 }).collect()
    }

    #[test]
    fn lanes_keep_feed_order_per_resource_and_put_urgent_lanes_first() {
        let events = queued(&[("alice", 1), ("bob", 2), ("alice", 3), ("carol", 4), ("bob", 5), ("carol", 6)]);
        let lanes = into_lanes(events, |(key, _)| key.clone(), |(_, n)| *n == 6);
        let numbers: Vec<Vec<u32>> = lanes.iter().map(|lane| lane.iter().map(|q| q.event.1).collect()).collect();
        assert_eq!(numbers, [vec![4, 6], vec![1, 3], vec![2, 5]]);
    }

    #[tokio::test]
    async fn a_refused_event_holds_back_only_the_rest_of_its_lane() {
        let events = queued(&[("alice", 1), ("bob", 2), ("alice", 3), ("bob", 4), ("alice", 5)]);
        let lanes = into_lanes(events, |(key, _)| key.clone(), |_| false);
        let tried = Mutex::new(Vec::new());
        let reports = run_lanes(lanes, 4, 3, &Effects::system(), |(key, n): &(String, u32), _attempt| {
            tried.lock().unwrap().push(*n);
            let answer = if key == "alice" && *n == 3 { Ok(500) } else { Ok(204) };
            async move { answer }
        })
        .await;
        let mut tried = tried.into_inner().unwrap();
        tried.sort_unstable();
        assert_eq!(tried, [1, 2, 3, 4], "5 waits behind the refused 3");
        let alice = reports.iter().find(|r| r.sent[0].event.0 == "alice").unwrap();
        let verdicts: Vec<Verdict> = alice.sent.iter().map(|s| s.verdict).collect();
        assert_eq!(verdicts, [Verdict::Delivered, Verdict::Failed]);
        assert_eq!(alice.sent[1].error.as_deref(), Some("the endpoint answered 500"));
        assert_eq!(alice.waiting.iter().map(|q| q.event.1).collect::<Vec<_>>(), [5]);
        let bob = reports.iter().find(|r| r.sent[0].event.0 == "bob").unwrap();
        assert!(bob.sent.iter().all(|s| s.verdict == Verdict::Delivered) && bob.waiting.is_empty());
    }

    #[tokio::test]
    async fn the_last_attempt_gives_up_and_the_lane_goes_on() {
        let events = vec![
            Queued { event: ("alice".to_owned(), 1), attempts: 2 },
            Queued { event: ("alice".to_owned(), 2), attempts: 0 },
        ];
        let lanes = into_lanes(events, |(key, _)| key.clone(), |_| false);
        let reports = run_lanes(lanes, 1, 3, &Effects::system(), |(_, n): &(String, u32), attempt| {
            let answer = if *n == 1 { Err("connection refused".to_owned()) } else { Ok(200) };
            assert_eq!(attempt, if *n == 1 { 3 } else { 1 });
            async move { answer }
        })
        .await;
        let verdicts: Vec<(Verdict, i32)> = reports[0].sent.iter().map(|s| (s.verdict, s.attempt)).collect();
        assert_eq!(verdicts, [(Verdict::Dead, 3), (Verdict::Delivered, 1)]);
    }

    #[test]
    fn only_2xx_delivers() {
        assert_eq!(judge(Ok(204), 1, 3).0, Verdict::Delivered);
        assert_eq!(judge(Ok(301), 1, 3).0, Verdict::Failed);
        assert_eq!(judge(Ok(410), 3, 3).0, Verdict::Dead);
        assert_eq!(judge(Err("timeout".into()), 2, 3), (Verdict::Failed, None, Some("timeout".into())));
    }
}
