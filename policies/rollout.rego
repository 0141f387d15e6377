# rollout-max-unavailable: prod Deployments roll out without dropping below
# their desired count (RollingUpdate with maxUnavailable 0).
package main

import data.lib.k8s

deny contains k8s.result("rollout-max-unavailable", obj, "spec.strategy", msg) if {
	some obj in k8s.objects
	obj.kind == "Deployment"
	k8s.is_prod(obj)
	object.get(obj, ["spec", "strategy", "type"], "RollingUpdate") == "Recreate"
	msg := sprintf("Deployment %s uses the Recreate strategy in prod", [obj.metadata.name])
}

deny contains k8s.result("rollout-max-unavailable", obj, "spec.strategy.rollingUpdate.maxUnavailable", msg) if {
	some obj in k8s.objects
	obj.kind == "Deployment"
	k8s.is_prod(obj)
	object.get(obj, ["spec", "strategy", "type"], "RollingUpdate") == "RollingUpdate"
	value := object.get(obj, ["spec", "strategy", "rollingUpdate", "maxUnavailable"], "25%")
	not value in {0, "0", "0%"}
	msg := sprintf("Deployment %s may take %v pods down during a prod rollout; set maxUnavailable: 0", [obj.metadata.name, value])
}
