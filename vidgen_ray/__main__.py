from vidgen_ray.cli.app import main

main()
