# service-port-names: every port of a Service has a name. The house references
# ports by name (Ingress backends, NetworkPolicies, targetPort), so a renumbered
# port changes one line. (Which Service types may be used is the built-in rule
# service-exposure, not a house rule.)
package main

import data.lib.k8s

deny contains k8s.result("service-port-names", obj, sprintf("spec.ports[%d].name", [i]), msg) if {
	some obj in k8s.objects
	obj.kind == "Service"
	some i, port in obj.spec.ports
	not port.name
	msg := sprintf("Service %s: port %v has no name; the house refers to ports by name", [obj.metadata.name, port.port])
}
