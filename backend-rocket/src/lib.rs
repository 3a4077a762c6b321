//! The sitebench site on rocket 0.5: in progress (issue #3).
