# VLAN sub-interfaces in the kernel VMs (sourced by tests/vm/suite.sh): not yet.
vlan_checks() { :; }
