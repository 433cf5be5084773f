//! Competing consumers.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use stratus::queue::Queue;

use super::{case, expect_empty, msg, opts};
use crate::case::{Case, Failure, ensure, ensure_eq};

const MESSAGES: usize = 20;

/// Receives and acks until all messages are in, returning the ids this consumer got.
async fn consume(
    q: Arc<dyn Queue>,
    total: Arc<AtomicUsize>,
) -> Result<Vec<String>, stratus::Error> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut mine = Vec::new();
    while total.load(Ordering::SeqCst) < MESSAGES && Instant::now() < deadline {
        for d in q.receive(opts(3, 500, Some(60))).await? {
            q.ack(&d.receipt).await?;
            mine.push(d.id);
            total.fetch_add(1, Ordering::SeqCst);
        }
    }
    Ok(mine)
}

/// Concurrency cases.
pub fn cases() -> Vec<Case> {
    vec![case(
        "competing_consumers_each_message_once",
        None,
        |cx| async move {
            let (_, q) = cx.new_queue().await?;
            let mut sent = Vec::new();
            for batch in 0..2 {
                sent.extend(
                    q.send((0..10).map(|i| msg(&format!("m{batch}-{i}"))).collect())
                        .await?,
                );
            }
            let total = Arc::new(AtomicUsize::new(0));
            let a = tokio::spawn(consume(Arc::clone(&q), Arc::clone(&total)));
            let b = tokio::spawn(consume(Arc::clone(&q), Arc::clone(&total)));
            let join = |r: Result<Result<Vec<String>, stratus::Error>, tokio::task::JoinError>| {
                r.map_err(|e| Failure(format!("consumer task panicked: {e}")))?
                    .map_err(Failure::from)
            };
            let got_a = join(a.await)?;
            let got_b = join(b.await)?;
            let all: Vec<&String> = got_a.iter().chain(&got_b).collect();
            let unique: HashSet<&String> = all.iter().copied().collect();
            ensure_eq("deliveries over both consumers", all.len(), MESSAGES)?;
            ensure_eq(
                "distinct messages over both consumers",
                unique.len(),
                MESSAGES,
            )?;
            let expected: HashSet<&String> = sent.iter().collect();
            ensure(
                unique == expected,
                "the consumers received ids that differ from the ids sent",
            )?;
            expect_empty(&*q, "queue after both consumers acked everything").await
        },
    )]
}
