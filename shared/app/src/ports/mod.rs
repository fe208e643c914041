//! The ports: narrow traits with the semantics of the AWS service behind each, so the local
//! implementation can be held to the same contract.

pub mod blob;
pub mod bus;
pub mod clock;
pub mod flow;
pub mod queue;
pub mod table;
pub mod tokens;

pub use blob::{BlobError, BlobStore};
pub use bus::{BusError, BusEvent, EventBus};
pub use clock::{Clock, FixedClock, SystemClock};
pub use flow::{Execution, ExecutionStatus, Executions, FlowError, TaskTokens};
pub use queue::{OutgoingMessage, Queue, QueueError, ReceivedMessage};
pub use table::{
    Condition, Index, Item, Key, Page, Query, SkRange, StoreError, Table, TxOp, Update,
};
pub use tokens::{PinSource, StaticPin, StaticTokens, TokenError, TokenSource};
