//! Affinity-domain validation profiles (IHE XDS.b structural, French DMP) and their value sets.
