//! Errors GDAL raises while a layer is read.
//!
//! Some drivers report a corrupt or truncated file only through GDAL's error
//! handler and then simply stop returning features: an OpenStreetMap PBF cut
//! off halfway yields "An error occurred during the parsing of data around
//! byte ..." and a fraction of its features, with no error from the
//! iterator. So the readers fetch features inside [`capture`], which
//! collects the failures GDAL raises on the current thread meanwhile.
//!
//! GDAL has one process-wide handler; the gdal crate exposes only that one,
//! not GDAL's per-thread handler stack. It is installed once, keeps the
//! messages of threads that are capturing, and passes every other message
//! to `tracing` (where GDAL's default handler would print it to stderr).

use std::cell::RefCell;
use std::sync::Once;

use gdal::errors::CplErrType;

thread_local! {
    /// Failures raised on this thread while it captures; `None` otherwise.
    static CAPTURED: RefCell<Option<Vec<String>>> = const { RefCell::new(None) };
}

fn install_handler() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        gdal::config::set_error_handler(|class, number, message| {
            let failure = matches!(class, CplErrType::Failure | CplErrType::Fatal);
            let kept = failure
                && CAPTURED.with(|c| {
                    c.try_borrow_mut()
                        .ok()
                        .and_then(|mut c| c.as_mut().map(|v| v.push(message.to_owned())))
                        .is_some()
                });
            if kept {
                return;
            }
            match class {
                CplErrType::None => {}
                CplErrType::Debug => tracing::debug!(target: "gdal", number, "{message}"),
                CplErrType::Warning => tracing::warn!(target: "gdal", number, "{message}"),
                CplErrType::Failure | CplErrType::Fatal => {
                    tracing::error!(target: "gdal", number, "{message}");
                }
            }
        });
    });
}

/// Puts back the capture state of the thread (that of an enclosing
/// [`capture`], or none) when dropped, also on panic.
struct Restore(Option<Vec<String>>);

impl Drop for Restore {
    fn drop(&mut self) {
        let outer = self.0.take();
        CAPTURED.with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                *c = outer;
            }
        });
    }
}

/// Runs `f` and returns its result with the messages of the failures
/// (`CE_Failure`, `CE_Fatal`) GDAL raised on this thread meanwhile.
pub(crate) fn capture<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    install_handler();
    let outer = CAPTURED.with(|c| c.borrow_mut().replace(Vec::new()));
    let _restore = Restore(outer);
    let value = f();
    let failures = CAPTURED.with(|c| c.borrow_mut().as_mut().map(std::mem::take));
    (value, failures.unwrap_or_default())
}
