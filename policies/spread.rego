# spread-across-nodes (warning): prod Deployments with more than one replica,
# or none fixed (an HPA owns the count), spread their pods across nodes.
package main

import data.lib.k8s

warn contains k8s.result("spread-across-nodes", obj, "spec.template.spec.topologySpreadConstraints", msg) if {
	some obj in k8s.objects
	obj.kind == "Deployment"
	k8s.is_prod(obj)
	object.get(obj, ["spec", "replicas"], 2) > 1
	not spreads_by_node(obj)
	msg := sprintf("Deployment %s does not spread its pods across nodes", [obj.metadata.name])
}

spreads_by_node(obj) if {
	some constraint in object.get(obj.spec.template.spec, "topologySpreadConstraints", [])
	constraint.topologyKey == "kubernetes.io/hostname"
}

spreads_by_node(obj) if {
	some term in object.get(obj.spec.template.spec, ["affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution"], [])
	term.topologyKey == "kubernetes.io/hostname"
}
