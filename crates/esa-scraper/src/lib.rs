//! ESA/Hubble and ESA/Webb outreach archives: image metadata, exact sky geometry (AVM), polite resumable downloads and credit lines.
