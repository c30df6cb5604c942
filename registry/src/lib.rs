//! The XDS.b Document Registry daemon.
