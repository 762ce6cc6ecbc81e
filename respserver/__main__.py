from respserver.cli import main

main()
