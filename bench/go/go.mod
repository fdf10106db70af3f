module greenrun.bench/go

go 1.19
