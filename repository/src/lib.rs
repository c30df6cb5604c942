//! The XDS.b Document Repository daemon.
