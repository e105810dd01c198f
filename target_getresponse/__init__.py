"""target-getresponse: Singer target that batch-adds contacts to GetResponse lists."""
