//! Facts about this workspace that the bench reports and needs, none of them measured under
//! load: the backends it holds, where their release binaries are and how they are built,
//! each adapter's lines, the crates and versions they depend on, the git revision, and the
//! build times `bench build-cost` keeps, with the edit of an adapter it times builds after.

pub mod adapter_lines;
pub mod backends;
pub mod binaries;
pub mod build_cost;
pub mod dependencies;
pub mod edit;
pub mod git;
