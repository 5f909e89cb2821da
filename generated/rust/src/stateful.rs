//! Stateful plugins: a value of your type per component instance, built on first use.
//!
//! Implement a world's `<Interface>State` trait (functions take `&mut self`, `new()` builds the
//! value from the host's configuration and may fail with a plugin-error), then export it with
//! `export_<world>_stateful!(YourType)`. The static traits and `export_<world>!` remain.

use core::cell::UnsafeCell;

/// Where one plugin value lives (components are single-threaded).
pub struct StateCell<T> {
    slot: UnsafeCell<Option<Result<T, crate::imports::dataflare::core::types::PluginError>>>,
}

// SAFETY: a component instance runs on one thread; calls into it never overlap.
unsafe impl<T> Sync for StateCell<T> {}

impl<T> StateCell<T> {
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        StateCell {
            slot: UnsafeCell::new(None),
        }
    }
}

/// Implemented by the export macro: the cell holding the plugin value.
#[doc(hidden)]
pub trait HasState: Sized + 'static {
    fn cell() -> &'static StateCell<Self>;
}

/// Runs `call` on the plugin value (built first, once), or `fail` with the error `new` gave.
#[doc(hidden)]
pub fn with_state<T: HasState, R>(
    new: fn() -> Result<T, crate::imports::dataflare::core::types::PluginError>,
    call: impl FnOnce(&mut T) -> R,
    fail: impl FnOnce(crate::imports::dataflare::core::types::PluginError) -> R,
) -> R {
    // SAFETY: single-threaded and not re-entered (a call finishes before the next starts).
    let slot = unsafe { &mut *T::cell().slot.get() };
    if slot.is_none() {
        *slot = Some(new());
    }
    match slot.as_mut() {
        Some(Ok(state)) => call(state),
        Some(Err(err)) => fail(err.clone()),
        None => unreachable!(),
    }
}

pub mod source_plugin {
    pub mod source {
        use crate::source_plugin::source::*;
        use crate::stateful::{with_state, HasState};

        /// `Source` with state: the plugin is a value, built by `new` once per
        /// component instance before its first call (read the configuration there).
        /// Export it with `export_source_plugin_stateful!(YourType)`.
        pub trait SourceState: Sized + 'static {
            /// Your implementation of `Cursor`.
            type Cursor: GuestCursor;
            /// Builds the plugin; an error is returned by every call instead.
            fn new() -> Result<Self, crate::imports::dataflare::core::types::PluginError>;
            /// Describes the plugin.
            fn info(&mut self) -> PluginInfo;
        }

        /// Adapts a `SourceState` to the static `Source` trait.
        pub struct Stateful<T_>(core::marker::PhantomData<T_>);

        impl<T_: SourceState + HasState> Source for Stateful<T_> {
            type Cursor = T_::Cursor;
            fn info() -> PluginInfo {
                with_state(
                    <T_ as SourceState>::new,
                    move |s_| s_.info(),
                    |e_| panic!("the plugin could not start: {:?}", e_),
                )
            }
        }
    }
}

pub mod destination_plugin {
    pub mod destination {
        use crate::destination_plugin::destination::*;
        use crate::stateful::{with_state, HasState};
        use alloc::vec::Vec;

        /// `Destination` with state: the plugin is a value, built by `new` once per
        /// component instance before its first call (read the configuration there).
        /// Export it with `export_destination_plugin_stateful!(YourType)`.
        pub trait DestinationState: Sized + 'static {
            /// Builds the plugin; an error is returned by every call instead.
            fn new() -> Result<Self, crate::imports::dataflare::core::types::PluginError>;
            /// Describes the plugin.
            fn info(&mut self) -> PluginInfo;
            /// Writes a batch; returns how many records were written.
            fn write_batch(&mut self, records: Vec<DataRecord>) -> Result<u32, PluginError>;
            /// Makes every written record durable.
            fn flush(&mut self) -> Result<(), PluginError>;
            /// Releases the destination; `err` if records were lost.
            fn close(&mut self) -> Result<(), ()>;
        }

        /// Adapts a `DestinationState` to the static `Destination` trait.
        pub struct Stateful<T_>(core::marker::PhantomData<T_>);

        impl<T_: DestinationState + HasState> Destination for Stateful<T_> {
            fn info() -> PluginInfo {
                with_state(
                    <T_ as DestinationState>::new,
                    move |s_| s_.info(),
                    |e_| panic!("the plugin could not start: {:?}", e_),
                )
            }
            fn write_batch(records: Vec<DataRecord>) -> Result<u32, PluginError> {
                with_state(
                    <T_ as DestinationState>::new,
                    move |s_| s_.write_batch(records),
                    Err,
                )
            }
            fn flush() -> Result<(), PluginError> {
                with_state(<T_ as DestinationState>::new, move |s_| s_.flush(), Err)
            }
            fn close() -> Result<(), ()> {
                with_state(
                    <T_ as DestinationState>::new,
                    move |s_| s_.close(),
                    |e_| panic!("the plugin could not start: {:?}", e_),
                )
            }
        }
    }
}

pub mod processor_plugin {
    pub mod processor {
        use crate::processor_plugin::processor::*;
        use crate::stateful::{with_state, HasState};
        use alloc::vec::Vec;

        /// `Processor` with state: the plugin is a value, built by `new` once per
        /// component instance before its first call (read the configuration there).
        /// Export it with `export_processor_plugin_stateful!(YourType)`.
        pub trait ProcessorState: Sized + 'static {
            /// Builds the plugin; an error is returned by every call instead.
            fn new() -> Result<Self, crate::imports::dataflare::core::types::PluginError>;
            /// Describes the plugin.
            fn info(&mut self) -> PluginInfo;
            /// Processes one record.
            fn process(&mut self, record: DataRecord) -> ProcessingResult;
            /// Processes a batch; one result per input record, in order.
            fn process_batch(&mut self, records: Vec<DataRecord>) -> Vec<ProcessingResult>;
        }

        /// Adapts a `ProcessorState` to the static `Processor` trait.
        pub struct Stateful<T_>(core::marker::PhantomData<T_>);

        impl<T_: ProcessorState + HasState> Processor for Stateful<T_> {
            fn info() -> PluginInfo {
                with_state(
                    <T_ as ProcessorState>::new,
                    move |s_| s_.info(),
                    |e_| panic!("the plugin could not start: {:?}", e_),
                )
            }
            fn process(record: DataRecord) -> ProcessingResult {
                with_state(
                    <T_ as ProcessorState>::new,
                    move |s_| s_.process(record),
                    ProcessingResult::Failed,
                )
            }
            fn process_batch(records: Vec<DataRecord>) -> Vec<ProcessingResult> {
                let n_ = records.len();
                with_state(
                    <T_ as ProcessorState>::new,
                    move |s_| s_.process_batch(records),
                    |e_| {
                        (0..n_)
                            .map(|_| ProcessingResult::Failed(e_.clone()))
                            .collect()
                    },
                )
            }
        }
    }
}

pub mod transformer_plugin {
    pub mod transformer {
        use crate::stateful::{with_state, HasState};
        use crate::transformer_plugin::transformer::*;
        use alloc::vec::Vec;

        /// `Transformer` with state: the plugin is a value, built by `new` once per
        /// component instance before its first call (read the configuration there).
        /// Export it with `export_transformer_plugin_stateful!(YourType)`.
        pub trait TransformerState: Sized + 'static {
            /// Builds the plugin; an error is returned by every call instead.
            fn new() -> Result<Self, crate::imports::dataflare::core::types::PluginError>;
            /// Describes the plugin.
            fn info(&mut self) -> PluginInfo;
            /// Rewrites one record.
            fn transform(&mut self, record: DataRecord) -> Result<DataRecord, PluginError>;
            /// Rewrites a batch; one result per input record, in order.
            fn transform_batch(
                &mut self,
                records: Vec<DataRecord>,
            ) -> Vec<Result<DataRecord, PluginError>>;
        }

        /// Adapts a `TransformerState` to the static `Transformer` trait.
        pub struct Stateful<T_>(core::marker::PhantomData<T_>);

        impl<T_: TransformerState + HasState> Transformer for Stateful<T_> {
            fn info() -> PluginInfo {
                with_state(
                    <T_ as TransformerState>::new,
                    move |s_| s_.info(),
                    |e_| panic!("the plugin could not start: {:?}", e_),
                )
            }
            fn transform(record: DataRecord) -> Result<DataRecord, PluginError> {
                with_state(
                    <T_ as TransformerState>::new,
                    move |s_| s_.transform(record),
                    Err,
                )
            }
            fn transform_batch(records: Vec<DataRecord>) -> Vec<Result<DataRecord, PluginError>> {
                let n_ = records.len();
                with_state(
                    <T_ as TransformerState>::new,
                    move |s_| s_.transform_batch(records),
                    |e_| (0..n_).map(|_| Err(e_.clone())).collect(),
                )
            }
        }
    }
}

pub mod filter_plugin {
    pub mod filter {
        use crate::filter_plugin::filter::*;
        use crate::stateful::{with_state, HasState};
        use alloc::vec::Vec;

        /// `Filter` with state: the plugin is a value, built by `new` once per
        /// component instance before its first call (read the configuration there).
        /// Export it with `export_filter_plugin_stateful!(YourType)`.
        pub trait FilterState: Sized + 'static {
            /// Builds the plugin; an error is returned by every call instead.
            fn new() -> Result<Self, crate::imports::dataflare::core::types::PluginError>;
            /// Describes the plugin.
            fn info(&mut self) -> PluginInfo;
            /// Whether to keep the record.
            fn keep(&mut self, record: DataRecord) -> bool;
            /// One decision per input record, in order.
            fn keep_batch(&mut self, records: Vec<DataRecord>) -> Vec<bool>;
        }

        /// Adapts a `FilterState` to the static `Filter` trait.
        pub struct Stateful<T_>(core::marker::PhantomData<T_>);

        impl<T_: FilterState + HasState> Filter for Stateful<T_> {
            fn info() -> PluginInfo {
                with_state(
                    <T_ as FilterState>::new,
                    move |s_| s_.info(),
                    |e_| panic!("the plugin could not start: {:?}", e_),
                )
            }
            fn keep(record: DataRecord) -> bool {
                with_state(
                    <T_ as FilterState>::new,
                    move |s_| s_.keep(record),
                    |e_| panic!("the plugin could not start: {:?}", e_),
                )
            }
            fn keep_batch(records: Vec<DataRecord>) -> Vec<bool> {
                with_state(
                    <T_ as FilterState>::new,
                    move |s_| s_.keep_batch(records),
                    |e_| panic!("the plugin could not start: {:?}", e_),
                )
            }
        }
    }
}

pub mod aggregator_plugin {
    pub mod aggregator {
        use crate::aggregator_plugin::aggregator::*;
        use crate::stateful::{with_state, HasState};

        /// `Aggregator` with state: the plugin is a value, built by `new` once per
        /// component instance before its first call (read the configuration there).
        /// Export it with `export_aggregator_plugin_stateful!(YourType)`.
        pub trait AggregatorState: Sized + 'static {
            /// Your implementation of `Accumulator`.
            type Accumulator: GuestAccumulator;
            /// Builds the plugin; an error is returned by every call instead.
            fn new() -> Result<Self, crate::imports::dataflare::core::types::PluginError>;
            /// Describes the plugin.
            fn info(&mut self) -> PluginInfo;
            /// Size and count of a window, without consuming it.
            fn stats(&mut self, window: AccumulatorBorrow<'_>) -> (u64, u64);
        }

        /// Adapts a `AggregatorState` to the static `Aggregator` trait.
        pub struct Stateful<T_>(core::marker::PhantomData<T_>);

        impl<T_: AggregatorState + HasState> Aggregator for Stateful<T_> {
            type Accumulator = T_::Accumulator;
            fn info() -> PluginInfo {
                with_state(
                    <T_ as AggregatorState>::new,
                    move |s_| s_.info(),
                    |e_| panic!("the plugin could not start: {:?}", e_),
                )
            }
            fn stats(window: AccumulatorBorrow<'_>) -> (u64, u64) {
                with_state(
                    <T_ as AggregatorState>::new,
                    move |s_| s_.stats(window),
                    |e_| panic!("the plugin could not start: {:?}", e_),
                )
            }
        }
    }
}

/// Exports `$ty` (which implements this world's `...State` trait) as the component's plugin.
#[macro_export]
macro_rules! export_source_plugin_stateful {
    ($ty:ty) => {
        impl $crate::stateful::HasState for $ty {
            fn cell() -> &'static $crate::stateful::StateCell<Self> {
                static CELL_: $crate::stateful::StateCell<$ty> = $crate::stateful::StateCell::new();
                &CELL_
            }
        }
        $crate::export_source_plugin!($crate::stateful::source_plugin::source::Stateful<$ty>);
    };
}

/// Exports `$ty` (which implements this world's `...State` trait) as the component's plugin.
#[macro_export]
macro_rules! export_destination_plugin_stateful {
    ($ty:ty) => {
        impl $crate::stateful::HasState for $ty {
            fn cell() -> &'static $crate::stateful::StateCell<Self> {
                static CELL_: $crate::stateful::StateCell<$ty> = $crate::stateful::StateCell::new();
                &CELL_
            }
        }
        $crate::export_destination_plugin!(
            $crate::stateful::destination_plugin::destination::Stateful<$ty>
        );
    };
}

/// Exports `$ty` (which implements this world's `...State` trait) as the component's plugin.
#[macro_export]
macro_rules! export_processor_plugin_stateful {
    ($ty:ty) => {
        impl $crate::stateful::HasState for $ty {
            fn cell() -> &'static $crate::stateful::StateCell<Self> {
                static CELL_: $crate::stateful::StateCell<$ty> = $crate::stateful::StateCell::new();
                &CELL_
            }
        }
        $crate::export_processor_plugin!(
            $crate::stateful::processor_plugin::processor::Stateful<$ty>
        );
    };
}

/// Exports `$ty` (which implements this world's `...State` trait) as the component's plugin.
#[macro_export]
macro_rules! export_transformer_plugin_stateful {
    ($ty:ty) => {
        impl $crate::stateful::HasState for $ty {
            fn cell() -> &'static $crate::stateful::StateCell<Self> {
                static CELL_: $crate::stateful::StateCell<$ty> = $crate::stateful::StateCell::new();
                &CELL_
            }
        }
        $crate::export_transformer_plugin!(
            $crate::stateful::transformer_plugin::transformer::Stateful<$ty>
        );
    };
}

/// Exports `$ty` (which implements this world's `...State` trait) as the component's plugin.
#[macro_export]
macro_rules! export_filter_plugin_stateful {
    ($ty:ty) => {
        impl $crate::stateful::HasState for $ty {
            fn cell() -> &'static $crate::stateful::StateCell<Self> {
                static CELL_: $crate::stateful::StateCell<$ty> = $crate::stateful::StateCell::new();
                &CELL_
            }
        }
        $crate::export_filter_plugin!($crate::stateful::filter_plugin::filter::Stateful<$ty>);
    };
}

/// Exports `$ty` (which implements this world's `...State` trait) as the component's plugin.
#[macro_export]
macro_rules! export_aggregator_plugin_stateful {
    ($ty:ty) => {
        impl $crate::stateful::HasState for $ty {
            fn cell() -> &'static $crate::stateful::StateCell<Self> {
                static CELL_: $crate::stateful::StateCell<$ty> = $crate::stateful::StateCell::new();
                &CELL_
            }
        }
        $crate::export_aggregator_plugin!(
            $crate::stateful::aggregator_plugin::aggregator::Stateful<$ty>
        );
    };
}
