package container

// Limits are the HostConfig fields of the limits and options that
// `update` changes and `run` sets beyond the basic ones (docker's names;
// embedded in HostConfig, so they show at its level in inspect).
type Limits struct {
	CpusetCpus        string   `json:"CpusetCpus"`
	CpusetMems        string   `json:"CpusetMems"`
	MemorySwap        int64    `json:"MemorySwap"` // memory+swap; -1 unlimited
	MemoryReservation int64    `json:"MemoryReservation"`
	BlkioWeight       uint16   `json:"BlkioWeight"`
	OomKillDisable    *bool    `json:"OomKillDisable"`
	Init              *bool    `json:"Init"`
	Ulimits           []Ulimit `json:"Ulimits"`
}

// Ulimit is one rlimit of the container's processes (--ulimit).
type Ulimit struct {
	Name string `json:"Name"`
	Hard int64  `json:"Hard"`
	Soft int64  `json:"Soft"`
}
