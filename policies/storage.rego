# pvc-size-bounds: every StatefulSet volume claim requests a size within
# data.house.storage.min and .max.
package main

import data.lib.k8s

deny contains k8s.result("pvc-size-bounds", obj, sprintf("spec.volumeClaimTemplates[%d].spec.resources.requests.storage", [i]), msg) if {
	some obj in k8s.objects
	obj.kind == "StatefulSet"
	some i, claim in object.get(obj, ["spec", "volumeClaimTemplates"], [])
	size := object.get(claim, ["spec", "resources", "requests", "storage"], "0")
	not within_bounds(size)
	msg := sprintf("volume claim %s of StatefulSet %s requests %v, outside %s..%s", [claim.metadata.name, obj.metadata.name, size, data.house.storage.min, data.house.storage.max])
}

within_bounds(size) if {
	bytes := units.parse_bytes(sprintf("%v", [size]))
	bytes >= units.parse_bytes(data.house.storage.min)
	bytes <= units.parse_bytes(data.house.storage.max)
}
