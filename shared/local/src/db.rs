use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

/// One SQLite database shared by the local table and queues. Access is serialised through a
/// mutex: SQLite allows one writer at a time anyway, and every statement here is short.
#[derive(Clone)]
pub struct Db {
    conn: Arc<Mutex<Connection>>,
}

impl Db {
    pub fn open(path: &Path) -> rusqlite::Result<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        Self::init(conn)
    }

    pub fn in_memory() -> rusqlite::Result<Self> {
        Self::init(Connection::open_in_memory()?)
    }

    fn init(conn: Connection) -> rusqlite::Result<Self> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS items (
                pk TEXT NOT NULL, sk TEXT NOT NULL, data TEXT NOT NULL,
                gsi1pk TEXT, gsi1sk TEXT, gsi2pk TEXT, gsi2sk TEXT, expires_at INTEGER,
                PRIMARY KEY (pk, sk)
             ) WITHOUT ROWID;
             CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk) WHERE gsi1pk IS NOT NULL;
             CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk) WHERE gsi2pk IS NOT NULL;
             CREATE TABLE IF NOT EXISTS queue_messages (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                queue TEXT NOT NULL, id TEXT NOT NULL, grp TEXT NOT NULL, dedup_id TEXT NOT NULL,
                body TEXT NOT NULL, sent_at_ms INTEGER NOT NULL, visible_at_ms INTEGER NOT NULL,
                receive_count INTEGER NOT NULL DEFAULT 0, receipt TEXT
             );
             CREATE INDEX IF NOT EXISTS queue_ready ON queue_messages (queue, visible_at_ms, seq);
             CREATE INDEX IF NOT EXISTS queue_group ON queue_messages (queue, grp, seq);
             CREATE TABLE IF NOT EXISTS bus_events (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, tenant TEXT NOT NULL,
                detail_type TEXT NOT NULL, correlation TEXT NOT NULL, detail TEXT NOT NULL
             );
             CREATE INDEX IF NOT EXISTS bus_events_tenant ON bus_events (tenant, seq);
             CREATE TABLE IF NOT EXISTS queue_dedup (
                queue TEXT NOT NULL, dedup_id TEXT NOT NULL, sent_at_ms INTEGER NOT NULL,
                PRIMARY KEY (queue, dedup_id)
             ) WITHOUT ROWID;",
        )?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `f` on the connection off the async executor.
    pub(crate) async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> T + Send + 'static,
    ) -> T {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            // A panic in another statement poisons the lock; the connection itself is still fine.
            let mut guard = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut guard)
        })
        .await
        .expect("database task panicked")
    }
}
