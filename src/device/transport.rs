//! The byte link a session runs over: a serial port, or (in tests) a scripted module.

use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

use super::error::DeviceError;

/// A byte link to a module: a serial port, or a scripted stand-in in tests.
pub trait Transport {
    /// Reads what has arrived, waiting at most `timeout`. `Ok(0)` means nothing arrived in time;
    /// a closed link is an error.
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize>;
    /// Sends all of `bytes`.
    fn send(&mut self, bytes: &[u8]) -> io::Result<()>;
    /// Writes what the link takes of `bytes` within `timeout` and says how many bytes that was:
    /// possibly fewer than asked (a full pseudo-terminal or USB buffer), `Ok(0)` when nothing could
    /// be written in time. Bulk senders loop over this so a short write or `EAGAIN` is never an
    /// error. The default sends everything at once.
    fn write_within(&mut self, bytes: &[u8], timeout: Duration) -> io::Result<usize> {
        let _ = timeout;
        self.send(bytes).map(|()| bytes.len())
    }
}

/// A borrowed transport is one too, so a session can own its link or borrow it.
impl<T: Transport + ?Sized> Transport for &mut T {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        (**self).read_within(buf, timeout)
    }
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        (**self).send(bytes)
    }
    fn write_within(&mut self, bytes: &[u8], timeout: Duration) -> io::Result<usize> {
        (**self).write_within(bytes, timeout)
    }
}

/// A boxed transport is a transport (a session that owns its port).
impl<T: Transport + ?Sized> Transport for Box<T> {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        (**self).read_within(buf, timeout)
    }
    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        (**self).send(bytes)
    }
    fn write_within(&mut self, bytes: &[u8], timeout: Duration) -> io::Result<usize> {
        (**self).write_within(bytes, timeout)
    }
}

/// A serial port (a tty, or a pseudo-terminal) as a [`Transport`].
pub struct SerialTransport {
    port: Box<dyn serialport::SerialPort>,
}

impl SerialTransport {
    /// Opens `path` in raw mode, 8N1, no flow control, exclusively.
    ///
    /// The serial library opens ports by UTF-8 name only; a path that is not UTF-8 is refused
    /// ([`DeviceError::NotUtf8`]) rather than converted, which would open a different name.
    pub fn open(path: &Path, baud_rate: u32) -> Result<SerialTransport, DeviceError> {
        let port = path.display().to_string();
        let Some(name) = path.to_str() else {
            return Err(DeviceError::NotUtf8 { port });
        };
        let port = serialport::new(name, baud_rate)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|source| DeviceError::Open { port, source })?;
        Ok(SerialTransport { port })
    }
}

impl Transport for SerialTransport {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> io::Result<usize> {
        self.port.set_timeout(timeout).map_err(io::Error::from)?;
        match self.port.read(buf) {
            Ok(0) => Err(io::Error::new(io::ErrorKind::UnexpectedEof, "end of file on the port")),
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    fn send(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.port.set_timeout(Duration::from_secs(1)).map_err(io::Error::from)?;
        self.port.write_all(bytes)
    }

    fn write_within(&mut self, bytes: &[u8], timeout: Duration) -> io::Result<usize> {
        self.port.set_timeout(timeout).map_err(io::Error::from)?;
        match self.port.write(bytes) {
            Ok(n) => Ok(n),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                ) =>
            {
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn a_path_that_is_not_utf8_is_refused_not_converted() {
        let sim = crate::sim::spawn(crate::sim::find("ec25-e").unwrap(), crate::sim::SimOptions::default()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        // The lossy form of the name leads to a real port: converting would open it.
        std::os::unix::fs::symlink(sim.pty(), dir.path().join("port\u{FFFD}")).unwrap();
        let path = dir.path().join(OsStr::from_bytes(b"port\xff"));
        assert!(SerialTransport::open(&dir.path().join("port\u{FFFD}"), 115_200).is_ok());

        let err = SerialTransport::open(&path, 115_200).err().expect("a non-UTF-8 path is refused");
        assert!(matches!(err, DeviceError::NotUtf8 { .. }), "{err}");
        assert_eq!(err.port(), path.display().to_string());
        assert!(err.to_string().contains("port\u{FFFD}") && err.to_string().contains("UTF-8"), "{err}");
        assert_eq!(err.command(), None);
        assert!(err.hint().contains("fwguard ports"), "{}", err.hint());

        // The session and identification say the same.
        let opts = crate::device::SessionOptions::default();
        assert!(matches!(crate::device::identify(&path, &opts), Err(DeviceError::NotUtf8 { .. })));
    }
}
