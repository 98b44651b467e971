print("fulcrum-vrrp")
