# service-exposure: in prod, traffic enters through the Ingress only; no
# Service of type LoadBalancer or NodePort.
package main

import data.lib.k8s

deny contains k8s.result("service-exposure", obj, "spec.type", msg) if {
	some obj in k8s.objects
	obj.kind == "Service"
	k8s.is_prod(obj)
	obj.spec.type in {"LoadBalancer", "NodePort"}
	msg := sprintf("Service %s is of type %s; prod traffic enters through the Ingress", [obj.metadata.name, obj.spec.type])
}
