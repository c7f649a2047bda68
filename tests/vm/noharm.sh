# "Do no harm" in the kernel VMs (sourced by tests/vm/suite.sh): not yet.
noharm_direct() { :; }
noharm_through() { :; }
