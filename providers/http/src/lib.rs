//! The `http` compute provider: functions behind HTTP triggers.

mod function;

pub use function::HttpProvider;
