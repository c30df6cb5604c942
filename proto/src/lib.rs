//! The gRPC contract (proto/*.proto) and its conversions to the xds model; the contract arrives with the gRPC issue.
