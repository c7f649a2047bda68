# Bonds in the kernel VMs (sourced by tests/vm/suite.sh): not yet.
bond_checks() { :; }
