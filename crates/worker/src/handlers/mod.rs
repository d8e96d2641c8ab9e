//! The job kinds this worker runs.

pub mod noop;

use crate::registry::Registry;

/// Every kind the worker binary registers.
pub fn registry() -> Registry {
    Registry::new().register(noop::KIND, noop::run)
}
