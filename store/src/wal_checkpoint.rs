//! Copies SQLite's write-ahead log into the database file from a task of its own, in
//! place of SQLite's automatic checkpoint, and keeps the log from growing without end.
//!
//! SQLite's automatic checkpoint runs inside the commit that grows the log past 1,000
//! pages, before the commit returns: the write that happened to commit then, and every
//! write queued behind this process's writer turn, waited for the copy and the database
//! file's fsync (in a profile of a Bulk load, the other tenants' slowest writes; seconds in
//! a large database). So the store turns it off and checkpoints here.
//!
//! A passive checkpoint waits for no reader or writer, but alone it never lets the log
//! start over: SQLite rewinds the log only when a write begins while every frame of it is
//! in the database file, and under a steady load the next write always lands while the
//! copy is still going. A million-user Bulk load left a 7.6 GB log beside a 5.9 GB
//! database; every commit grew the file, readers searched an index of millions of frames,
//! and a crash would have had to read all of it back. So once the log is longer than
//! [`ROUNDS`] allow, the checkpointer finishes the copy in this process's writer turn with a
//! restarting checkpoint: the frames written since the passive copy are few, the readers it
//! waits for are short ones, and the next write starts the log over in the space the file
//! already has.

use std::time::{Duration, Instant};

use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnection, SqlitePool};

/// When the checkpointer copies and rewinds the log.
#[derive(Debug, Clone, Copy)]
struct Rounds {
    /// How often the log is copied into the database file.
    every: Duration,
    /// The log's length (in pages) past which the checkpointer rewinds it.
    rewind_after_frames: i64,
}

/// Every half second; rewinds past 4,096 pages (16 MiB of 4 KiB pages), four times SQLite's
/// own automatic threshold, so that a quiet deployment rewinds in the passive copy alone
/// and only a steady load pays for the writer turn.
const ROUNDS: Rounds = Rounds { every: Duration::from_millis(500), rewind_after_frames: 4096 };

/// How long a rewinding checkpoint waits for readers that still read the log's older
/// frames before it gives up until the next round. It holds the writer turn meanwhile, so
/// this bounds what it costs the writers; reads take milliseconds.
const READER_WAIT: Duration = Duration::from_millis(20);

/// Starts the checkpointer for the pool's database; it ends when the pool is closed.
pub(crate) fn spawn(pool: SqlitePool, writer_turn: std::sync::Arc<tokio::sync::Mutex<()>>) {
    spawn_with(pool, writer_turn, ROUNDS);
}

fn spawn_with(pool: SqlitePool, writer_turn: std::sync::Arc<tokio::sync::Mutex<()>>, rounds: Rounds) {
    // A connection of its own: a checkpoint of a large database takes a second now and
    // then, which would take one of the pool's few connections from the requests, and
    // its busy timeout is `READER_WAIT`, not the pool's.
    let options = pool.connect_options().as_ref().clone().busy_timeout(READER_WAIT).optimize_on_close(false, None);
    tokio::spawn(async move {
        let mut every = tokio::time::interval(rounds.every);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut connection: Option<SqliteConnection> = None;
        loop {
            every.tick().await;
            if pool.is_closed() {
                return;
            }
            let open = match connection.as_mut() {
                Some(open) => open,
                None => match options.connect().await {
                    Ok(opened) => connection.insert(opened),
                    Err(error) => {
                        tracing::warn!(%error, "cannot open a connection to checkpoint the SQLite write-ahead log; retrying");
                        continue;
                    }
                },
            };
            if let Err(error) = checkpoint(open, &writer_turn, rounds.rewind_after_frames).await {
                tracing::warn!(%error, "cannot checkpoint the SQLite write-ahead log; retrying");
                connection = None;
            }
        }
    });
}

/// One round: a passive copy, then a rewind in the writer turn when the log is long.
async fn checkpoint(
    connection: &mut SqliteConnection,
    writer_turn: &tokio::sync::Mutex<()>,
    rewind_after_frames: i64,
) -> Result<(), sqlx::Error> {
    let started = Instant::now();
    let passive = run(connection, "PRAGMA wal_checkpoint(PASSIVE)").await?;
    if passive.log_frames < rewind_after_frames {
        tracing::trace!(
            log_frames = passive.log_frames,
            copied_frames = passive.checkpointed_frames,
            took = ?started.elapsed(),
            "checkpointed the write-ahead log"
        );
        return Ok(());
    }
    let copied_at = Instant::now();
    let _turn = writer_turn.lock().await;
    let turn_taken = Instant::now();
    let restart = run(connection, "PRAGMA wal_checkpoint(RESTART)").await?;
    // A reader of the log's older frames outlasted `READER_WAIT`: the log grows a round
    // longer, and the next round tries again.
    let outcome = if restart.busy { "a reader kept the log from rewinding" } else { "rewound the write-ahead log" };
    tracing::debug!(
        log_frames = passive.log_frames,
        copied_frames = passive.checkpointed_frames,
        copied_in = ?copied_at.duration_since(started),
        frames_in_turn = restart.checkpointed_frames - passive.checkpointed_frames,
        waited_for_turn = ?turn_taken.duration_since(copied_at),
        held_turn = ?turn_taken.elapsed(),
        "{outcome}"
    );
    Ok(())
}

/// What `PRAGMA wal_checkpoint` reports.
struct Outcome {
    /// Whether it could not finish (a writer or reader in the way).
    busy: bool,
    /// Frames in the log.
    log_frames: i64,
    /// Frames of the log now in the database file.
    checkpointed_frames: i64,
}

async fn run(connection: &mut SqliteConnection, statement: &'static str) -> Result<Outcome, sqlx::Error> {
    let (busy, log_frames, checkpointed_frames): (i64, i64, i64) =
        sqlx::query_as(statement).fetch_one(&mut *connection).await?;
    Ok(Outcome { busy: busy != 0, log_frames, checkpointed_frames })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

    use super::*;

    /// A writer that never pauses (as during a Bulk load) would grow a log that only
    /// passive checkpoints copy without end: each copy ends after the next write has begun.
    /// With the rewind, the log stays within what one round lets through.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_writer_that_never_pauses_does_not_grow_the_log_without_end() {
        #[allow(clippy::disallowed_methods)] // a test folder's name only has to be unique
        let dir = std::env::temp_dir().join(format!("wal-checkpoint-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("test.db");
        let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", file.display()))
            .unwrap()
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .pragma("wal_autocheckpoint", "0");
        let pool = SqlitePoolOptions::new().max_connections(2).connect_with(options).await.unwrap();
        sqlx::query("CREATE TABLE rows (body BLOB NOT NULL)").execute(&pool).await.unwrap();
        let turn = std::sync::Arc::new(tokio::sync::Mutex::new(()));
        // 256 pages (1 MiB) a round of 20 ms. The writer below writes 40 MiB, which passive
        // copies alone leave as a 64 MB log; with the rewind it stays at 2-4 MB here, and
        // under 10 MB with six copies of this test competing for two cores.
        let rounds = Rounds { every: Duration::from_millis(20), rewind_after_frames: 256 };
        spawn_with(pool.clone(), std::sync::Arc::clone(&turn), rounds);

        let log = dir.join("test.db-wal");
        let mut longest_log = 0;
        let body = vec![7_u8; 16 * 1024];
        for _ in 0..(40 * 1024 / 16) {
            let _turn = turn.lock().await;
            sqlx::query("INSERT INTO rows (body) VALUES ($1)").bind(&body).execute(&pool).await.unwrap();
            longest_log = longest_log.max(std::fs::metadata(&log).map_or(0, |metadata| metadata.len()));
        }
        pool.close().await;
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(longest_log < 24 * 1024 * 1024, "the log grew to {longest_log} bytes");
    }
}
